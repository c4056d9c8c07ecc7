/// One embedding.
///
/// Mirrors `message Vector` in proto/embedd.proto.
public struct Vector: ProtoMessage {
    /// Field 1 (`values`).
    public var values: [Float] = []

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(values: [Float] = []) {
        self.values = values
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: try reader.readFloats(field, type, into: &values)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.packedFloats(1, values)
    }
}
