/// The outcome of one item of an Upsert.
///
/// Mirrors `message UpsertResult` in proto/embedd.proto.
public struct UpsertResult: ProtoMessage {
    /// Field 1 (`key`).
    public var key: String = ""
    /// Field 2 (`outcome`).
    public var outcome: UpsertOutcome = UpsertOutcome(rawValue: 0)
    /// Field 3 (`error`).
    public var error: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(key: String = "", outcome: UpsertOutcome = UpsertOutcome(rawValue: 0), error: String = "") {
        self.key = key
        self.outcome = outcome
        self.error = error
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: key = try reader.readString(field, type)
        case 2: outcome = UpsertOutcome(rawValue: try reader.readInt32(field, type))
        case 3: error = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, key)
        writer.int(2, Int64(outcome.rawValue))
        writer.string(3, error)
    }
}
