/// Request of method Delete (id 39); needs write permission.
///
/// Mirrors `message DeleteRequest` in proto/embedd.proto.
public struct DeleteRequest: ProtoMessage {
    /// Field 1 (`collection`).
    public var collection: String = ""
    /// Field 2 (`keys`).
    public var keys: [String] = []

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(collection: String = "", keys: [String] = []) {
        self.collection = collection
        self.keys = keys
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: collection = try reader.readString(field, type)
        case 2: keys.append(try reader.readString(field, type))
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, collection)
        for v in keys { writer.repeatedStringElement(2, v) }
    }
}
