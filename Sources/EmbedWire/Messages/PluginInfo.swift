/// One loaded plugin library.
///
/// Mirrors `message PluginInfo` in proto/embedd.proto.
public struct PluginInfo: ProtoMessage {
    /// Field 1 (`name`).
    public var name: String = ""
    /// Field 2 (`version`).
    public var version: String = ""
    /// Field 3 (`path`).
    public var path: String = ""
    /// Field 4 (`abi_version`).
    public var abiVersion: String = ""
    /// Field 5 (`description`).
    public var description: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(name: String = "", version: String = "", path: String = "", abiVersion: String = "", description: String = "") {
        self.name = name
        self.version = version
        self.path = path
        self.abiVersion = abiVersion
        self.description = description
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: name = try reader.readString(field, type)
        case 2: version = try reader.readString(field, type)
        case 3: path = try reader.readString(field, type)
        case 4: abiVersion = try reader.readString(field, type)
        case 5: description = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, name)
        writer.string(2, version)
        writer.string(3, path)
        writer.string(4, abiVersion)
        writer.string(5, description)
    }
}
