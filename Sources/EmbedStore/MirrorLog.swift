import EmbedSys
import Synchronization

/// The mirrors of one collection: their durable cursors (`mirrors` file), the log they still
/// need, and the commit times behind their lag.
///
/// A checkpoint empties `wal.log`. While a mirror's cursor lies behind the checkpoint, the
/// records after that cursor are first copied into a retained segment,
/// `retained/FIRST-LAST.wal` (a log file of the same format whose header's `baseSeq` is
/// FIRST − 1), so `changes(after:)` can read them back after the log is emptied, and after a
/// restart. Segments go once every cursor has passed them, and — oldest first — when they
/// add up to more than `OpenOptions.mirrorLogBytes`: a cursor behind what remains is *stale*,
/// and its mirror must start over from a fresh export.
///
/// Locks: `state` guards cursors, segments and commit times (a leaf: nothing is taken under
/// it). `files` is held shared while a reader reads segments and the log, exclusively while a
/// checkpoint writes a segment and empties the log or a segment is removed, so a reader
/// never sees a log half emptied. The checkpoint takes `files` under log leadership and
/// `gate`; readers take nothing after it but `state`.
///
/// Invariants behind `@unchecked Sendable`: every `var` is guarded by `state`'s lock.
final class MirrorLog: @unchecked Sendable {
    struct Segment {
        var first: UInt64
        var last: UInt64
        var bytes: Int64
        var path: String
    }

    /// One batch of commits: the write calls `first…last`, when they became durable, and how
    /// many records (upserted or deleted keys) they held.
    private struct CommitMark {
        var first: UInt64
        var last: UInt64
        var unixMs: UInt64
        var records: Int
    }

    let directory: String
    let retainedDirectory: String
    let walPath: String
    let limitBytes: Int64
    private let name: String
    private let logger: StoreLogger
    private let state = ConditionLock()
    private let files = ReadWriteLock()
    private var cursors: [MirrorCursor]
    private var segments: [Segment]
    /// Every sequence after this is in `wal.log` (its header's base, or the last reset).
    private var walFloor: UInt64
    private var marks: [CommitMark] = []
    private var marksHead = 0
    /// When the collection opened: writes older than the first mark count from here.
    private let openedUnixMs: UInt64
    /// Where reading the log last stopped: (sequence, byte offset of the record after it),
    /// valid until the log is emptied.
    private var walHint: (seq: UInt64, offset: Int64)?
    /// Whether any mirror is registered (read on every commit without the lock).
    let active = Atomic<Bool>(false)
    /// Commit marks kept at most (a mirror that never acks must not grow memory forever;
    /// lag seconds then count from the oldest mark kept).
    static let maxMarks = 1 << 20

    init(directory: String, walFloor: UInt64, options: OpenOptions, name: String, logger: @escaping StoreLogger) throws(StoreError) {
        self.directory = directory
        self.retainedDirectory = directory + "/retained"
        self.walPath = directory + "/wal.log"
        self.limitBytes = options.mirrorLogBytes
        self.name = name
        self.logger = logger
        self.walFloor = walFloor
        self.openedUnixMs = Clock.realtimeMicroseconds() / 1000
        cursors = try MirrorCursorFile.load(directory: directory)
        segments = try MirrorLog.listSegments(retainedDirectory)
        active.store(!cursors.isEmpty, ordering: .relaxed)
        if cursors.isEmpty && !segments.isEmpty {
            // Mirrors removed while the daemon was down, or a crash before the cleanup.
            try files.withWriteLock { () throws(StoreError) in try state.withLock { () throws(StoreError) in try trimLocked() } }
        }
    }

    /// Segments in `dir`, oldest first; `.tmp` leftovers of a checkpoint that died are removed.
    static func listSegments(_ dir: String) throws(StoreError) -> [Segment] {
        guard FileSystem.isDirectory(dir) else { return [] }
        let names = try io(dir, "opendir") { () throws(Errno) in try FileSystem.contentsOfDirectory(dir) }
        var out: [Segment] = []
        for n in names {
            let path = dir + "/" + n
            if n.hasSuffix(".tmp") { try? FileSystem.unlink(path); continue }
            guard n.hasSuffix(".wal") else { continue }
            let parts = n.dropLast(4).split(separator: "-")
            guard parts.count == 2, let first = UInt64(parts[0]), let last = UInt64(parts[1]), first <= last else {
                throw StoreError.corrupt(file: path, detail: "a retained log segment's name must be FIRST-LAST.wal")
            }
            let size = try io(path, "stat") { () throws(Errno) in try FileSystem.identity(of: path).size }
            out.append(Segment(first: first, last: last, bytes: size, path: path))
        }
        return out.sorted { $0.first < $1.first }
    }

    static func segmentName(first: UInt64, last: UInt64) -> String {
        func pad(_ v: UInt64) -> String { let s = String(v); return String(repeating: "0", count: max(0, 20 - s.count)) + s }
        return pad(first) + "-" + pad(last) + ".wal"
    }

    // MARK: Cursors

    var allCursors: [MirrorCursor] { state.withLock { cursors } }

    /// Adds a mirror whose cursor starts at `sequence`, or — `reset` — moves an existing one
    /// there (after a fresh export of a stale mirror).
    func register(target: String, prefix: String, sequence: UInt64, reset: Bool) throws(StoreError) -> MirrorCursor {
        guard !target.isEmpty, target.utf8.count <= MirrorCursorFile.maxTargetBytes else {
            throw .invalidArgument("a mirror's target must be 1…\(MirrorCursorFile.maxTargetBytes) bytes, got \(target.utf8.count)")
        }
        guard prefix.utf8.count < VectorCollection.maxKeyBytes else {
            throw .invalidArgument("a mirror's key prefix must be under \(VectorCollection.maxKeyBytes) bytes, got \(prefix.utf8.count)")
        }
        let now = Clock.realtimeMicroseconds() / 1000
        return try state.withLock { () throws(StoreError) -> MirrorCursor in
            var next = cursors
            let cursor = MirrorCursor(target: target, prefix: prefix, sequence: sequence, registeredUnixMs: now, ackedUnixMs: now)
            if let i = next.firstIndex(where: { $0.target == target }) {
                guard reset else {
                    throw .invalidArgument("collection '\(name)' already mirrors to \(target) (cursor at sequence \(next[i].sequence)); "
                                           + "remove it first, or register it again with reset after a fresh export")
                }
                next[i] = cursor
            } else {
                guard next.count < MirrorCursorFile.maxMirrors else {
                    throw .invalidArgument("collection '\(name)' already has \(next.count) mirrors, the most it may have")
                }
                next.append(cursor)
            }
            try MirrorCursorFile.save(next, directory: directory)
            cursors = next
            active.store(true, ordering: .relaxed)
            return cursor
        }
    }

    /// Removes a mirror; its retained log goes unless another cursor needs it.
    func remove(target: String) throws(StoreError) {
        try files.withWriteLock { () throws(StoreError) in
            try state.withLock { () throws(StoreError) in
                guard let i = cursors.firstIndex(where: { $0.target == target }) else { throw notRegistered(target) }
                var next = cursors
                next.remove(at: i)
                try MirrorCursorFile.save(next, directory: directory)
                cursors = next
                active.store(!next.isEmpty, ordering: .relaxed)
                try trimLocked()
            }
        }
    }

    /// Moves a mirror's cursor forward to `sequence` (everything up to it is forwarded).
    /// A cursor never moves back: a late or repeated ack changes nothing.
    func ack(target: String, sequence: UInt64, lastSequence: UInt64) throws(StoreError) -> MirrorCursor {
        guard sequence <= lastSequence else {
            throw .invalidArgument("cannot acknowledge sequence \(sequence): collection '\(name)' has written only up to \(lastSequence)")
        }
        let now = Clock.realtimeMicroseconds() / 1000
        return try files.withWriteLock { () throws(StoreError) -> MirrorCursor in
            try state.withLock { () throws(StoreError) -> MirrorCursor in
                guard let i = cursors.firstIndex(where: { $0.target == target }) else { throw notRegistered(target) }
                guard sequence > cursors[i].sequence else { return cursors[i] }
                var next = cursors
                next[i].sequence = sequence
                next[i].ackedUnixMs = now
                try MirrorCursorFile.save(next, directory: directory)
                cursors = next
                try trimLocked()
                return next[i]
            }
        }
    }

    private func notRegistered(_ target: String) -> StoreError {
        .failedPrecondition("collection '\(name)' has no mirror to \(target) (register it with `embedctl collection mirror \(name) \(target)`)")
    }

    /// Each mirror with its lag.
    func statuses(lastSequence: UInt64, checkpointSequence: UInt64) -> [MirrorStatus] {
        let now = Clock.realtimeMicroseconds() / 1000
        return state.withLock {
            let floor = floorLocked()
            return cursors.map { c in
                var status = MirrorStatus(cursor: c, lastSequence: lastSequence, lagSequences: 0, lagRecords: 0, lagSeconds: 0,
                                          stale: c.sequence < floor && c.sequence < lastSequence)
                guard lastSequence > c.sequence else { return status }
                status.lagSequences = lastSequence - c.sequence
                var records: UInt64 = 0
                var oldest: UInt64?
                var firstMarked: UInt64?
                for m in marks[marksHead...] where m.last > c.sequence {
                    if oldest == nil { oldest = m.unixMs; firstMarked = m.first }
                    records += UInt64(m.records)
                }
                // Writes with no mark (made before the collection opened, or before the
                // oldest mark kept) count one record each, from the time it opened.
                let unmarkedEnd = min(lastSequence, (firstMarked ?? lastSequence + 1) - 1)
                if unmarkedEnd > c.sequence {
                    records += unmarkedEnd - c.sequence
                    oldest = min(oldest ?? openedUnixMs, openedUnixMs)
                }
                status.lagRecords = records
                status.lagSeconds = Double(now - min(now, oldest ?? now)) / 1000
                return status
            }
        }
    }

    /// Bytes of retained segments.
    var retainedBytes: Int64 { state.withLock { segments.reduce(0) { $0 + $1.bytes } } }

    /// Every sequence after this can still be read (the oldest segment's base, or the log's).
    private func floorLocked() -> UInt64 {
        if let s = segments.first { return min(s.first - 1, walFloor) }
        return walFloor
    }

    // MARK: Commits

    /// Called by the commit leader after each batch (`first…last` durable, `records` keys).
    func noteCommit(first: UInt64, last: UInt64, records: Int) {
        let now = Clock.realtimeMicroseconds() / 1000
        state.withLock {
            marks.append(CommitMark(first: first, last: last, unixMs: now, records: records))
            if marks.count - marksHead > MirrorLog.maxMarks { marksHead += 1 }
            if marksHead > 4096 && marksHead * 2 > marks.count {
                marks.removeFirst(marksHead)
                marksHead = 0
            }
        }
    }

    // MARK: Retention (checkpoint: log leadership and `gate` held)

    /// Copies the log's records after the slowest cursor into a segment (when a mirror still
    /// needs them), runs `reset` (which empties the log) and drops segments no longer needed
    /// — all under `files`, so no reader sees the log half emptied.
    func checkpoint(wal: WriteAheadLog, seq: UInt64, reset: () throws(StoreError) -> Void) throws(StoreError) {
        try files.withWriteLock { () throws(StoreError) in
            let slowest = state.withLock { cursors.map(\.sequence).min() }
            if let slowest, slowest < seq, wal.size > Int64(WriteAheadLog.headerSize) {
                try retain(wal: wal, after: slowest, upTo: seq)
            }
            try reset()
            try state.withLock { () throws(StoreError) in
                walFloor = seq
                walHint = nil
                try trimLocked()
            }
        }
    }

    /// Writes `retained/FIRST-LAST.wal` with the log's records in `(after, upTo]`.
    private func retain(wal: WriteAheadLog, after: UInt64, upTo: UInt64) throws(StoreError) {
        let bytes = try MirrorLog.readRange(walPath, from: 0, to: wal.size)
        var first: UInt64?, last: UInt64 = 0
        var start = 0, end = 0
        withBytes(of: bytes) { raw in
            var offset = WriteAheadLog.headerSize
            while let (e, next) = WriteAheadLog.parseRecord(raw, at: offset) {
                if e.seq > upTo { break }
                if e.seq > after {
                    if first == nil { first = e.seq; start = offset }
                    last = e.seq
                    end = next
                }
                offset = next
            }
        }
        guard let first else { return }
        if !FileSystem.isDirectory(retainedDirectory) {
            try io(retainedDirectory, "mkdir") { () throws(Errno) in try FileSystem.makeDirectory(retainedDirectory, permissions: 0o750) }
            try io(directory, "fsync") { () throws(Errno) in try FileSystem.syncDirectory(directory) }
        }
        let path = retainedDirectory + "/" + MirrorLog.segmentName(first: first, last: last)
        let content = WriteAheadLog.headerBytes(baseSeq: first - 1) + bytes[start..<end]
        try io(path, "write") { () throws(Errno) in
            try FileSystem.replaceFile(path, with: content, temporary: path + ".tmp", directory: retainedDirectory)
        }
        state.withLock { segments.append(Segment(first: first, last: last, bytes: Int64(content.count), path: path)) }
    }

    /// Drops segments every cursor has passed, then the oldest while over the limit (`files`
    /// held exclusively, and `state`).
    private func trimLocked() throws(StoreError) {
        let slowest = cursors.map(\.sequence).min() ?? UInt64.max
        var total = segments.reduce(Int64(0)) { $0 + $1.bytes }
        var dropped = 0
        while let s = segments.first, s.last <= slowest || total > limitBytes {
            if s.last > slowest {
                let behind = cursors.filter { $0.sequence < s.last }.map(\.target)
                logger(.warning, "\(name): the retained log passed store.mirror_log_limit (\(limitBytes) bytes): dropped sequences "
                       + "\(s.first)…\(s.last); mirror(s) \(behind.joined(separator: ", ")) now need a fresh export")
            }
            do { try FileSystem.unlink(s.path) } catch {
                if error != .noSuchFile { throw StoreError.io(path: s.path, operation: "unlink", errno: error) }
            }
            total -= s.bytes
            segments.removeFirst()
            dropped += 1
        }
        if dropped > 0 { try? FileSystem.syncDirectory(retainedDirectory) }
        while marksHead < marks.count && marks[marksHead].last <= slowest { marksHead += 1 }
    }

    // MARK: Reading

    /// Up to `limit` records' worth of writes after `after` (at least one write when any
    /// follows, whatever its size), in log order, from the retained segments and the log.
    /// - Throws: `.failedPrecondition` when the log after `after` is no longer retained.
    func changes(after: UInt64, limit: Int, bytesLimit: Int, lastSequence: UInt64, wal: WriteAheadLog,
                 decode: (WriteAheadLog.Entry) -> WriteOperation?) throws(StoreError) -> ChangesPage {
        guard after <= lastSequence else {
            throw .invalidArgument("after_sequence \(after) is beyond collection '\(name)''s last sequence \(lastSequence)")
        }
        var page = ChangesPage(changes: [], next: after, lastSequence: lastSequence)
        if after == lastSequence { return page }
        return try files.withReadLock { () throws(StoreError) -> ChangesPage in
            let (floor, segs, hint) = state.withLock { (floorLocked(), segments, walHint) }
            guard after >= floor else { throw staleError(after: after, floor: floor) }
            var records = 0, bytes = 0
            var expected = after + 1
            func take(_ e: WriteAheadLog.Entry, source: String) throws(StoreError) -> Bool {
                if e.seq < expected { return true }
                if e.seq > lastSequence { return false }
                guard e.seq == expected else { throw staleError(after: expected - 1, floor: e.seq - 1) }
                guard let op = decode(e) else {
                    throw StoreError.corrupt(file: source, detail: "record \(e.seq) has a valid checksum but cannot be decoded")
                }
                let change: LoggedChange
                switch op {
                case .upsert(let r, _): change = LoggedChange(sequence: e.seq, operation: .upsert(r))
                case .delete(let k): change = LoggedChange(sequence: e.seq, operation: .delete(k))
                }
                if !page.changes.isEmpty && (records + change.recordCount > limit || bytes + e.payload.count > bytesLimit) { return false }
                page.changes.append(change)
                records += change.recordCount
                bytes += e.payload.count
                expected += 1
                return records < limit && bytes < bytesLimit
            }
            for s in segs where s.last >= expected {
                let content = try MirrorLog.readRange(s.path, from: 0, to: s.bytes)
                var more = true
                try withBytes(of: content) { raw throws(StoreError) in
                    var offset = WriteAheadLog.headerSize
                    while more, let (e, next) = WriteAheadLog.parseRecord(raw, at: offset) {
                        more = try take(e, source: s.path)
                        offset = next
                    }
                }
                if !more { page.next = expected - 1; return page }
            }
            // The log: from the hint when it lies at or before where this page starts.
            let end = wal.size
            var offset = Int64(WriteAheadLog.headerSize)
            if let hint, hint.seq < expected, hint.offset <= end { offset = hint.offset }
            var more = true
            while more && offset < end {
                let chunkEnd = min(end, offset + Int64(max(bytesLimit, 1 << 20)))
                var content = try MirrorLog.readRange(walPath, from: offset, to: chunkEnd)
                var consumed = 0
                try withBytes(of: content) { raw throws(StoreError) in
                    while more, let (e, next) = WriteAheadLog.parseRecord(raw, at: consumed) {
                        more = try take(e, source: walPath)
                        if e.seq < expected { consumed = next }  // skipped or taken, not left for the next page
                    }
                }
                if consumed == 0 && more {
                    // One record larger than the chunk: read exactly it.
                    guard content.count >= WriteAheadLog.recordHeaderSize else { break }
                    let length = Int64(content.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) })
                    let recordEnd = offset + Int64(WriteAheadLog.recordHeaderSize) + length
                    guard recordEnd <= end, recordEnd > chunkEnd else { break }
                    content = try MirrorLog.readRange(walPath, from: offset, to: recordEnd)
                    try withBytes(of: content) { raw throws(StoreError) in
                        if let (e, next) = WriteAheadLog.parseRecord(raw, at: 0) {
                            more = try take(e, source: walPath)
                            consumed = next
                        }
                    }
                    if consumed == 0 { break }
                }
                offset += Int64(consumed)
            }
            page.next = expected - 1
            let done = (seq: page.next, offset: offset)
            state.withLock { walHint = done }
            if page.changes.isEmpty && page.next < lastSequence {
                throw staleError(after: after, floor: floor)
            }
            return page
        }
    }

    private func staleError(after: UInt64, floor: UInt64) -> StoreError {
        .failedPrecondition("collection '\(name)': the log after sequence \(after) is no longer retained (it now starts after \(floor); "
                            + "store.mirror_log_limit is \(limitBytes) bytes): the mirror needs a fresh export — `embedctl export \(name) URL --resume` "
                            + "(or a fresh export), then `embedctl collection mirror \(name) URL --reset`")
    }

    /// Bytes `[from, to)` of the file at `path` (`pread`).
    static func readRange(_ path: String, from: Int64, to: Int64) throws(StoreError) -> [UInt8] {
        let fd = try io(path, "open") { () throws(Errno) in try FileDescriptor.open(path, .readOnly) }
        defer { try? fd.close() }
        var out = [UInt8](repeating: 0, count: Int(max(0, to - from)))
        var done = 0
        while done < out.count {
            let n = try io(path, "pread") { () throws(Errno) in
                try out.withUnsafeMutableBytes { raw in
                    Result { () throws(Errno) in
                        try fd.read(fromAbsoluteOffset: from + Int64(done), into: UnsafeMutableRawBufferPointer(rebasing: raw[done...]))
                    }
                }.get()
            }
            if n == 0 { out.removeLast(out.count - done); break }
            done += n
        }
        return out
    }
}
