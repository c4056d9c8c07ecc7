/// Whether a snapshot and the log after it together hold every write since the collection was
/// created. Sequence numbers start at 1 and continue across checkpoints, so a log that begins
/// after what the snapshot covers — the snapshot deleted, or an older copy put back — means
/// acknowledged writes are in neither file. Opening anyway would serve a fraction of the data,
/// and the next checkpoint would make that permanent; so opening refuses, naming the snapshot.
enum LogCoverage {
    /// - Parameters:
    ///   - snapshotSeq: the sequence `index.snap` covers, nil when there is no snapshot.
    ///   - logBase: the sequence the log's header says it continues from (format 3), or nil.
    ///   - firstSeq: the log's first record, or nil when it has none.
    /// - Throws: `StoreError.corrupt` naming `snapshotPath`.
    static func check(snapshotPath: String, snapshotSeq: UInt64?, logPath: String, logBase: UInt64?,
                      firstSeq: UInt64?) throws(StoreError) {
        // The log holds sequences after `start`. Older logs say nothing in their header; their
        // first record tells, unless the log is empty. The larger of the two counts: a header
        // left behind by a crash inside a checkpoint's truncation may be older than the
        // records after it, never newer.
        let start = max(logBase ?? 0, (firstSeq ?? 1) - 1)
        let covered = snapshotSeq ?? 0
        guard start > covered else { return }
        let logName = logPath.split(separator: "/").last.map(String.init) ?? logPath
        if snapshotSeq == nil {
            throw .corrupt(file: snapshotPath, detail: "is missing, but \(logName) starts at sequence \(start + 1): records 1…\(start) were only in "
                           + "the snapshot. Refusing to open the collection with just the records after them; restore index.snap (from a backup), "
                           + "or move the collection's directory away to start over")
        }
        throw .corrupt(file: snapshotPath, detail: "covers sequences up to \(covered), but \(logName) starts at sequence \(start + 1): records "
                       + "\(covered + 1)…\(start) are in neither file (an older copy of index.snap?). Refusing to open the collection without "
                       + "them; restore the index.snap that goes with this log")
    }
}
