/// Response of method Delete: how many of the keys existed.
///
/// Mirrors `message DeleteResponse` in proto/embedd.proto.
public struct DeleteResponse: ProtoMessage {
    /// Field 1 (`deleted`).
    public var deleted: UInt64 = 0

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(deleted: UInt64 = 0) {
        self.deleted = deleted
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: deleted = try reader.readUInt64(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.uint(1, deleted)
    }
}
