/// Request of admin method ReloadPlugin (id 17): hot-swap the models of a plugin.
///
/// Mirrors `message ReloadPluginRequest` in proto/embedd.proto.
public struct ReloadPluginRequest: ProtoMessage {
    /// Field 1 (`plugin`).
    public var plugin: String = ""
    /// Field 2 (`path`).
    public var path: String = ""
    /// Field 3 (`model`).
    public var model: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(plugin: String = "", path: String = "", model: String = "") {
        self.plugin = plugin
        self.path = path
        self.model = model
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: plugin = try reader.readString(field, type)
        case 2: path = try reader.readString(field, type)
        case 3: model = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, plugin)
        writer.string(2, path)
        writer.string(3, model)
    }
}
