/// Request of method OptimizeCollection (id 42, protocol 1.1); needs write permission.
///
/// Mirrors `message OptimizeCollectionRequest` in proto/embedd.proto.
public struct OptimizeCollectionRequest: ProtoMessage {
    /// Field 1 (`name`).
    public var name: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(name: String = "") {
        self.name = name
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: name = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, name)
    }
}
