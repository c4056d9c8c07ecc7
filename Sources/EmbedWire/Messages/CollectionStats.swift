/// Sizes and state of one collection's store (DescribeCollection, Stats).
///
/// Mirrors `message CollectionStats` in proto/embedd.proto.
public struct CollectionStats: ProtoMessage {
    /// Field 1 (`count`).
    public var count: UInt64 = 0
    /// Field 2 (`deleted`).
    public var deleted: UInt64 = 0
    /// Field 3 (`unindexed`).
    public var unindexed: UInt64 = 0
    /// Field 4 (`nodes`).
    public var nodes: UInt64 = 0
    /// Field 5 (`max_level`).
    public var maxLevel: Int32 = 0
    /// Field 6 (`wal_bytes`).
    public var walBytes: UInt64 = 0
    /// Field 7 (`snapshot_bytes`).
    public var snapshotBytes: UInt64 = 0
    /// Field 8 (`memory_bytes`).
    public var memoryBytes: UInt64 = 0
    /// Field 9 (`last_sequence`).
    public var lastSequence: UInt64 = 0
    /// Field 10 (`checkpoint_sequence`).
    public var checkpointSequence: UInt64 = 0

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(count: UInt64 = 0, deleted: UInt64 = 0, unindexed: UInt64 = 0, nodes: UInt64 = 0, maxLevel: Int32 = 0, walBytes: UInt64 = 0, snapshotBytes: UInt64 = 0, memoryBytes: UInt64 = 0, lastSequence: UInt64 = 0, checkpointSequence: UInt64 = 0) {
        self.count = count
        self.deleted = deleted
        self.unindexed = unindexed
        self.nodes = nodes
        self.maxLevel = maxLevel
        self.walBytes = walBytes
        self.snapshotBytes = snapshotBytes
        self.memoryBytes = memoryBytes
        self.lastSequence = lastSequence
        self.checkpointSequence = checkpointSequence
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: count = try reader.readUInt64(field, type)
        case 2: deleted = try reader.readUInt64(field, type)
        case 3: unindexed = try reader.readUInt64(field, type)
        case 4: nodes = try reader.readUInt64(field, type)
        case 5: maxLevel = try reader.readInt32(field, type)
        case 6: walBytes = try reader.readUInt64(field, type)
        case 7: snapshotBytes = try reader.readUInt64(field, type)
        case 8: memoryBytes = try reader.readUInt64(field, type)
        case 9: lastSequence = try reader.readUInt64(field, type)
        case 10: checkpointSequence = try reader.readUInt64(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.uint(1, count)
        writer.uint(2, deleted)
        writer.uint(3, unindexed)
        writer.uint(4, nodes)
        writer.int(5, Int64(maxLevel))
        writer.uint(6, walBytes)
        writer.uint(7, snapshotBytes)
        writer.uint(8, memoryBytes)
        writer.uint(9, lastSequence)
        writer.uint(10, checkpointSequence)
    }
}
