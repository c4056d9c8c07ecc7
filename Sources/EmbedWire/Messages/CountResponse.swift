/// Response of method Count.
///
/// Mirrors `message CountResponse` in proto/embedd.proto.
public struct CountResponse: ProtoMessage {
    /// Field 1 (`count`).
    public var count: UInt64 = 0

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(count: UInt64 = 0) {
        self.count = count
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: count = try reader.readUInt64(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.uint(1, count)
    }
}
