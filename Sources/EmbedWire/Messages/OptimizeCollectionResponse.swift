/// Response of method OptimizeCollection.
///
/// Mirrors `message OptimizeCollectionResponse` in proto/embedd.proto.
public struct OptimizeCollectionResponse: ProtoMessage {
    /// Field 1 (`collection`).
    public var collection: CollectionInfo? = nil

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(collection: CollectionInfo? = nil) {
        self.collection = collection
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: collection = try reader.readMessage(field, type, as: CollectionInfo.self)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        if let collection { writer.message(1, collection) }
    }
}
