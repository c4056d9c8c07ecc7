/// Response of method Health.
///
/// Mirrors `message HealthResponse` in proto/embedd.proto.
public struct HealthResponse: ProtoMessage {
    /// Field 1 (`status`).
    public var status: ServingStatus = ServingStatus(rawValue: 0)
    /// Field 2 (`message`).
    public var message: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(status: ServingStatus = ServingStatus(rawValue: 0), message: String = "") {
        self.status = status
        self.message = message
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: status = ServingStatus(rawValue: try reader.readInt32(field, type))
        case 2: message = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.int(1, Int64(status.rawValue))
        writer.string(2, message)
    }
}
