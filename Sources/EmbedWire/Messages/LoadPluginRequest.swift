/// Request of admin method LoadPlugin (id 16).
///
/// Mirrors `message LoadPluginRequest` in proto/embedd.proto.
public struct LoadPluginRequest: ProtoMessage {
    /// Field 1 (`path`).
    public var path: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(path: String = "") {
        self.path = path
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: path = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, path)
    }
}
