/// Request of admin method LoadModel (id 19).
///
/// Mirrors `message LoadModelRequest` in proto/embedd.proto.
public struct LoadModelRequest: ProtoMessage {
    /// Field 1 (`name`).
    public var name: String = ""
    /// Field 2 (`plugin`).
    public var plugin: String = ""
    /// Field 3 (`model_dir`).
    public var modelDir: String = ""
    /// Field 4 (`options`).
    public var options: [String: String] = [:]

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(name: String = "", plugin: String = "", modelDir: String = "", options: [String: String] = [:]) {
        self.name = name
        self.plugin = plugin
        self.modelDir = modelDir
        self.options = options
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: name = try reader.readString(field, type)
        case 2: plugin = try reader.readString(field, type)
        case 3: modelDir = try reader.readString(field, type)
        case 4:
            let entry = try reader.readMessage(field, type, as: StringMapEntry.self)
            options[entry.key] = entry.value
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, name)
        writer.string(2, plugin)
        writer.string(3, modelDir)
        for key in options.keys.sorted() { writer.message(4, StringMapEntry(key: key, value: options[key]!)) }
    }
}
