/// A snapshot of a collection's size and state, for `stats` calls and monitoring.
public struct CollectionStats: Sendable, Equatable {
    public var name: String
    public var config: CollectionConfig
    /// Live records.
    public var count: Int
    /// Deleted or replaced records whose slots are not reclaimed yet.
    public var deleted: Int
    /// Records acknowledged but not yet linked into the graph (searched exactly meanwhile).
    public var unindexed: Int
    /// Node slots allocated (live + deleted).
    public var nodes: Int
    /// Top layer of the graph (−1 when empty).
    public var maxLevel: Int
    /// Bytes in `wal.log`.
    public var walBytes: Int64
    /// Bytes in `index.snap` (0 before the first checkpoint).
    public var snapshotBytes: Int64
    /// Bytes of vectors, links, keys and metadata held in memory (mapped or anonymous).
    public var memoryBytes: Int
    /// Sequence number of the last acknowledged write.
    public var lastSequence: UInt64
    /// Sequence number covered by the last checkpoint.
    public var checkpointSequence: UInt64
}
