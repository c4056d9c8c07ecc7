/// The server's answer to `Hello`: its version and the limits of this connection.
///
/// Mirrors `message HelloReply` in proto/embedd.proto.
public struct HelloReply: ProtoMessage {
    /// Field 1 (`major`).
    public var major: UInt32 = 0
    /// Field 2 (`minor`).
    public var minor: UInt32 = 0
    /// Field 3 (`server`).
    public var server: String = ""
    /// Field 4 (`max_frame_bytes`).
    public var maxFrameBytes: UInt32 = 0
    /// Field 5 (`max_calls_in_flight`).
    public var maxCallsInFlight: UInt32 = 0
    /// Field 6 (`idle_timeout_ms`).
    public var idleTimeoutMs: UInt32 = 0
    /// Field 7 (`default_deadline_ms`).
    public var defaultDeadlineMs: UInt32 = 0

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(major: UInt32 = 0, minor: UInt32 = 0, server: String = "", maxFrameBytes: UInt32 = 0, maxCallsInFlight: UInt32 = 0, idleTimeoutMs: UInt32 = 0, defaultDeadlineMs: UInt32 = 0) {
        self.major = major
        self.minor = minor
        self.server = server
        self.maxFrameBytes = maxFrameBytes
        self.maxCallsInFlight = maxCallsInFlight
        self.idleTimeoutMs = idleTimeoutMs
        self.defaultDeadlineMs = defaultDeadlineMs
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: major = try reader.readUInt32(field, type)
        case 2: minor = try reader.readUInt32(field, type)
        case 3: server = try reader.readString(field, type)
        case 4: maxFrameBytes = try reader.readUInt32(field, type)
        case 5: maxCallsInFlight = try reader.readUInt32(field, type)
        case 6: idleTimeoutMs = try reader.readUInt32(field, type)
        case 7: defaultDeadlineMs = try reader.readUInt32(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.uint(1, UInt64(major))
        writer.uint(2, UInt64(minor))
        writer.string(3, server)
        writer.uint(4, UInt64(maxFrameBytes))
        writer.uint(5, UInt64(maxCallsInFlight))
        writer.uint(6, UInt64(idleTimeoutMs))
        writer.uint(7, UInt64(defaultDeadlineMs))
    }
}
