/// Request of method Get (id 38); NOT_FOUND when the key is absent.
///
/// Mirrors `message GetRequest` in proto/embedd.proto.
public struct GetRequest: ProtoMessage {
    /// Field 1 (`collection`).
    public var collection: String = ""
    /// Field 2 (`key`).
    public var key: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(collection: String = "", key: String = "") {
        self.collection = collection
        self.key = key
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: collection = try reader.readString(field, type)
        case 2: key = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, collection)
        writer.string(2, key)
    }
}
