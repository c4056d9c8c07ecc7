/// Request of method Stats (id 41); an empty `collection` means every readable collection.
///
/// Mirrors `message StatsRequest` in proto/embedd.proto.
public struct StatsRequest: ProtoMessage {
    /// Field 1 (`collection`).
    public var collection: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(collection: String = "") {
        self.collection = collection
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: collection = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, collection)
    }
}
