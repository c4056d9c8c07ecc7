/// Response of admin method LoadPlugin.
///
/// Mirrors `message LoadPluginResponse` in proto/embedd.proto.
public struct LoadPluginResponse: ProtoMessage {
    /// Field 1 (`plugin`).
    public var plugin: PluginInfo? = nil

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(plugin: PluginInfo? = nil) {
        self.plugin = plugin
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: plugin = try reader.readMessage(field, type, as: PluginInfo.self)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        if let plugin { writer.message(1, plugin) }
    }
}
