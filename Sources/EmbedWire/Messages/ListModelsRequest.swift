/// Request of method ListModels (id 3).
///
/// Mirrors `message ListModelsRequest` in proto/embedd.proto.
public struct ListModelsRequest: ProtoMessage {
    /// Creates the (field-less) message.
    public init() {}

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        false
    }

    public func encode(to writer: inout ProtoWriter) {

    }
}
