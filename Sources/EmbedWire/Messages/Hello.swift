/// First frame a client sends (frame kind HELLO): the protocol version it speaks.
///
/// Mirrors `message Hello` in proto/embedd.proto.
public struct Hello: ProtoMessage {
    /// Field 1 (`major`).
    public var major: UInt32 = 0
    /// Field 2 (`minor`).
    public var minor: UInt32 = 0
    /// Field 3 (`client`).
    public var client: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(major: UInt32 = 0, minor: UInt32 = 0, client: String = "") {
        self.major = major
        self.minor = minor
        self.client = client
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: major = try reader.readUInt32(field, type)
        case 2: minor = try reader.readUInt32(field, type)
        case 3: client = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.uint(1, UInt64(major))
        writer.uint(2, UInt64(minor))
        writer.string(3, client)
    }
}
