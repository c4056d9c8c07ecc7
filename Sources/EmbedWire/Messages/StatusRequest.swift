/// Request of method Status (id 2).
///
/// Mirrors `message StatusRequest` in proto/embedd.proto.
public struct StatusRequest: ProtoMessage {
    /// Creates the (field-less) message.
    public init() {}

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        false
    }

    public func encode(to writer: inout ProtoWriter) {

    }
}
