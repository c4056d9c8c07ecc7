/// Request of method Health (id 1).
///
/// Mirrors `message HealthRequest` in proto/embedd.proto.
public struct HealthRequest: ProtoMessage {
    /// Creates the (field-less) message.
    public init() {}

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        false
    }

    public func encode(to writer: inout ProtoWriter) {

    }
}
