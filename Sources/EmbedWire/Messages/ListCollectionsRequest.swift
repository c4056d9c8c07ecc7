/// Request of method ListCollections (id 34).
///
/// Mirrors `message ListCollectionsRequest` in proto/embedd.proto.
public struct ListCollectionsRequest: ProtoMessage {
    /// Creates the empty message.
    public init() {}

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        false
    }

    public func encode(to writer: inout ProtoWriter) {
    }
}
