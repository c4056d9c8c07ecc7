/// Response of method Status: the daemon's state, counters, models and plugins.
///
/// Mirrors `message StatusResponse` in proto/embedd.proto.
public struct StatusResponse: ProtoMessage {
    /// Field 1 (`version`).
    public var version: String = ""
    /// Field 2 (`pid`).
    public var pid: UInt32 = 0
    /// Field 3 (`uptime_ms`).
    public var uptimeMs: UInt64 = 0
    /// Field 4 (`state`).
    public var state: String = ""
    /// Field 5 (`socket_path`).
    public var socketPath: String = ""
    /// Field 6 (`config_path`).
    public var configPath: String = ""
    /// Field 7 (`connections`).
    public var connections: UInt32 = 0
    /// Field 8 (`calls_total`).
    public var callsTotal: UInt64 = 0
    /// Field 9 (`calls_in_flight`).
    public var callsInFlight: UInt32 = 0
    /// Field 10 (`reloads`).
    public var reloads: UInt64 = 0
    /// Field 11 (`models`).
    public var models: [ModelInfo] = []
    /// Field 12 (`plugins`).
    public var plugins: [PluginInfo] = []
    /// Field 13 (`data_dir`).
    public var dataDir: String = ""
    /// Field 14 (`plugins_dir`).
    public var pluginsDir: String = ""
    /// Field 15 (`models_dir`).
    public var modelsDir: String = ""
    /// Field 16 (`last_reload_error`).
    public var lastReloadError: String = ""
    /// Field 17 (`protocol_major`).
    public var protocolMajor: UInt32 = 0
    /// Field 18 (`protocol_minor`).
    public var protocolMinor: UInt32 = 0

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(version: String = "", pid: UInt32 = 0, uptimeMs: UInt64 = 0, state: String = "", socketPath: String = "", configPath: String = "", connections: UInt32 = 0, callsTotal: UInt64 = 0, callsInFlight: UInt32 = 0, reloads: UInt64 = 0, models: [ModelInfo] = [], plugins: [PluginInfo] = [], dataDir: String = "", pluginsDir: String = "", modelsDir: String = "", lastReloadError: String = "", protocolMajor: UInt32 = 0, protocolMinor: UInt32 = 0) {
        self.version = version
        self.pid = pid
        self.uptimeMs = uptimeMs
        self.state = state
        self.socketPath = socketPath
        self.configPath = configPath
        self.connections = connections
        self.callsTotal = callsTotal
        self.callsInFlight = callsInFlight
        self.reloads = reloads
        self.models = models
        self.plugins = plugins
        self.dataDir = dataDir
        self.pluginsDir = pluginsDir
        self.modelsDir = modelsDir
        self.lastReloadError = lastReloadError
        self.protocolMajor = protocolMajor
        self.protocolMinor = protocolMinor
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: version = try reader.readString(field, type)
        case 2: pid = try reader.readUInt32(field, type)
        case 3: uptimeMs = try reader.readUInt64(field, type)
        case 4: state = try reader.readString(field, type)
        case 5: socketPath = try reader.readString(field, type)
        case 6: configPath = try reader.readString(field, type)
        case 7: connections = try reader.readUInt32(field, type)
        case 8: callsTotal = try reader.readUInt64(field, type)
        case 9: callsInFlight = try reader.readUInt32(field, type)
        case 10: reloads = try reader.readUInt64(field, type)
        case 11: models.append(try reader.readMessage(field, type, as: ModelInfo.self))
        case 12: plugins.append(try reader.readMessage(field, type, as: PluginInfo.self))
        case 13: dataDir = try reader.readString(field, type)
        case 14: pluginsDir = try reader.readString(field, type)
        case 15: modelsDir = try reader.readString(field, type)
        case 16: lastReloadError = try reader.readString(field, type)
        case 17: protocolMajor = try reader.readUInt32(field, type)
        case 18: protocolMinor = try reader.readUInt32(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, version)
        writer.uint(2, UInt64(pid))
        writer.uint(3, uptimeMs)
        writer.string(4, state)
        writer.string(5, socketPath)
        writer.string(6, configPath)
        writer.uint(7, UInt64(connections))
        writer.uint(8, callsTotal)
        writer.uint(9, UInt64(callsInFlight))
        writer.uint(10, reloads)
        for v in models { writer.message(11, v) }
        for v in plugins { writer.message(12, v) }
        writer.string(13, dataDir)
        writer.string(14, pluginsDir)
        writer.string(15, modelsDir)
        writer.string(16, lastReloadError)
        writer.uint(17, UInt64(protocolMajor))
        writer.uint(18, UInt64(protocolMinor))
    }
}
