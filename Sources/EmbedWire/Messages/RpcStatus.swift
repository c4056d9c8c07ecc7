/// Payload of a non-OK RESPONSE frame and of a GOAWAY frame.
///
/// Mirrors `message RpcStatus` in proto/embedd.proto.
public struct RpcStatus: ProtoMessage {
    /// Field 1 (`code`).
    public var code: UInt32 = 0
    /// Field 2 (`message`).
    public var message: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(code: UInt32 = 0, message: String = "") {
        self.code = code
        self.message = message
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: code = try reader.readUInt32(field, type)
        case 2: message = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.uint(1, UInt64(code))
        writer.string(2, message)
    }
}
