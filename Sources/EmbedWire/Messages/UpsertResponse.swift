/// Response of method Upsert: `results[i]` answers `items[i]`.
///
/// Mirrors `message UpsertResponse` in proto/embedd.proto.
public struct UpsertResponse: ProtoMessage {
    /// Field 1 (`results`).
    public var results: [UpsertResult] = []
    /// Field 2 (`stored`).
    public var stored: UInt32 = 0
    /// Field 3 (`skipped`).
    public var skipped: UInt32 = 0
    /// Field 4 (`failed`).
    public var failed: UInt32 = 0

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(results: [UpsertResult] = [], stored: UInt32 = 0, skipped: UInt32 = 0, failed: UInt32 = 0) {
        self.results = results
        self.stored = stored
        self.skipped = skipped
        self.failed = failed
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: results.append(try reader.readMessage(field, type, as: UpsertResult.self))
        case 2: stored = try reader.readUInt32(field, type)
        case 3: skipped = try reader.readUInt32(field, type)
        case 4: failed = try reader.readUInt32(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        for v in results { writer.message(1, v) }
        writer.uint(2, UInt64(stored))
        writer.uint(3, UInt64(skipped))
        writer.uint(4, UInt64(failed))
    }
}
