/// Where one mirror of a collection stands: the last sequence number it has forwarded to its
/// target and acknowledged (`ackMirror`). Kept durably in the collection's `mirrors` file;
/// the log after the slowest cursor is retained (up to `OpenOptions.mirrorLogBytes`).
public struct MirrorCursor: Sendable, Equatable {
    /// The mirror's target (e.g. `milvus://host:19530/name`): its identity within the collection.
    public var target: String
    /// The key prefix the mirror puts before every key (several sources into one target).
    public var prefix: String
    /// The last sequence number forwarded and acknowledged.
    public var sequence: UInt64
    /// When the mirror was registered (Unix milliseconds).
    public var registeredUnixMs: UInt64
    /// When its cursor last moved (Unix milliseconds; the registration time before any ack).
    public var ackedUnixMs: UInt64

    public init(target: String, prefix: String, sequence: UInt64, registeredUnixMs: UInt64, ackedUnixMs: UInt64) {
        self.target = target
        self.prefix = prefix
        self.sequence = sequence
        self.registeredUnixMs = registeredUnixMs
        self.ackedUnixMs = ackedUnixMs
    }
}

/// A mirror's cursor with what the collection knows about its lag.
public struct MirrorStatus: Sendable, Equatable {
    public var cursor: MirrorCursor
    /// The collection's last acknowledged sequence number.
    public var lastSequence: UInt64
    /// Sequence numbers (write calls) not yet forwarded: `lastSequence - cursor.sequence`.
    public var lagSequences: UInt64
    /// Records (upserted or deleted keys) in those writes, as far as the log still holds them.
    public var lagRecords: UInt64
    /// Age of the oldest write not yet forwarded, in seconds (0 when caught up). Writes made
    /// before the collection was last opened count from the time it opened.
    public var lagSeconds: Double
    /// The log the cursor needs has been dropped (past `mirrorLogBytes`): the mirror must be
    /// re-exported and registered again.
    public var stale: Bool
}

/// One acknowledged write call as a mirror reads it back: its sequence number and what it did.
public struct LoggedChange: Sendable, Equatable {
    public enum Operation: Sendable, Equatable {
        /// Records inserted or replaced by key.
        case upsert([Record])
        /// Keys deleted (only keys that existed are logged).
        case delete([String])
    }
    public var sequence: UInt64
    public var operation: Operation

    /// Upserted or deleted keys in this write.
    public var recordCount: Int {
        switch operation {
        case .upsert(let r): return r.count
        case .delete(let k): return k.count
        }
    }
}

/// A page of `changes(after:)`.
public struct ChangesPage: Sendable, Equatable {
    /// Writes after the requested sequence, in log order.
    public var changes: [LoggedChange]
    /// The sequence to pass as `after` for the next page (the last one returned, or the
    /// requested one when there were none).
    public var next: UInt64
    /// The collection's last acknowledged sequence when the page was read.
    public var lastSequence: UInt64
}
