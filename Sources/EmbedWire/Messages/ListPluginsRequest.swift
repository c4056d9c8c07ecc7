/// Request of method ListPlugins (id 4).
///
/// Mirrors `message ListPluginsRequest` in proto/embedd.proto.
public struct ListPluginsRequest: ProtoMessage {
    /// Creates the (field-less) message.
    public init() {}

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        false
    }

    public func encode(to writer: inout ProtoWriter) {

    }
}
