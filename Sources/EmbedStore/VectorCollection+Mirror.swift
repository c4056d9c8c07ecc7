/// Mirrors: other stores that follow this collection's writes from a durable cursor
/// (docs/milvus.md, "Mirror"; the files in docs/storage.md).
extension VectorCollection {
    /// Registers a mirror to `target` whose cursor starts at the last acknowledged write: it
    /// is then exported a snapshot of the collection and streams `changes(after:)` from there
    /// (writes between the cursor and the export are replayed; replaying is idempotent).
    /// `reset` moves an existing mirror's cursor there instead (after a fresh export).
    /// - Throws: `.invalidArgument` for a bad target or prefix, or a target already mirrored
    ///   without `reset`; `.io` when the `mirrors` file cannot be written.
    public func registerMirror(target: String, prefix: String, reset: Bool = false) throws(StoreError) -> MirrorCursor {
        if let failure = failureReason { throw failure }
        // Under log leadership: no write slips between reading the sequence and the cursor
        // being durable, so the cursor's log is retained from its first moment.
        try commit.lead()
        defer { commit.unlead() }
        return try mirrors.register(target: target, prefix: prefix, sequence: commit.positions.durable, reset: reset)
    }

    /// Removes the mirror to `target`; log retained only for it is deleted.
    /// - Throws: `.failedPrecondition` when no such mirror is registered.
    public func removeMirror(target: String) throws(StoreError) {
        try mirrors.remove(target: target)
    }

    /// Records that the mirror to `target` has forwarded every write up to `sequence`.
    /// Acks never move a cursor back.
    public func ackMirror(target: String, sequence: UInt64) throws(StoreError) -> MirrorStatus {
        let c = try mirrors.ack(target: target, sequence: sequence, lastSequence: commit.positions.durable)
        return mirrorStatuses().first { $0.cursor.target == c.target }
            ?? MirrorStatus(cursor: c, lastSequence: sequence, lagSequences: 0, lagRecords: 0, lagSeconds: 0, stale: false)
    }

    /// Every mirror with its lag.
    public func mirrorStatuses() -> [MirrorStatus] {
        let (last, cp, _) = commit.positions
        return mirrors.statuses(lastSequence: last, checkpointSequence: cp)
    }

    /// Bytes of log retained past checkpoints for mirrors.
    public var retainedLogBytes: Int64 { mirrors.retainedBytes }

    /// The acknowledged writes after sequence `after`, oldest first: about `limit` records
    /// (whole write calls; at least one call when any follows) and about `bytesLimit` bytes
    /// of log. Vectors are as written (bit-equal), whatever the collection's storage type.
    /// - Throws: `.failedPrecondition` when the log after `after` is gone (a checkpoint
    ///   emptied it with no mirror behind, or `mirrorLogBytes` dropped it): a fresh export is
    ///   needed; `.invalidArgument` when `after` lies beyond the last write.
    /// - Complexity: reads the retained segments holding the page and the log from where the
    ///   previous page stopped.
    public func changes(after: UInt64, limit: Int, bytesLimit: Int = 64 << 20) throws(StoreError) -> ChangesPage {
        if let failure = failureReason { throw failure }
        guard limit >= 1 else { throw .invalidArgument("limit must be at least 1, got \(limit)") }
        let config = self.config
        return try mirrors.changes(after: after, limit: limit, bytesLimit: max(1, bytesLimit), lastSequence: commit.positions.durable,
                                   wal: commit.wal) { e in
            WriteOperation.decode(e, dimension: config.dimension, metric: config.metric, storage: config.storage)
        }
    }
}
