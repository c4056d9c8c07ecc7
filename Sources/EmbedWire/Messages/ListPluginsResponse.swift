/// Response of method ListPlugins.
///
/// Mirrors `message ListPluginsResponse` in proto/embedd.proto.
public struct ListPluginsResponse: ProtoMessage {
    /// Field 1 (`plugins`).
    public var plugins: [PluginInfo] = []

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(plugins: [PluginInfo] = []) {
        self.plugins = plugins
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: plugins.append(try reader.readMessage(field, type, as: PluginInfo.self))
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        for v in plugins { writer.message(1, v) }
    }
}
