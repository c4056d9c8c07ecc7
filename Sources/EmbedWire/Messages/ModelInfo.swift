/// One configured model: its state and, once loaded, what the plugin reports about it.
///
/// Mirrors `message ModelInfo` in proto/embedd.proto.
public struct ModelInfo: ProtoMessage {
    /// Field 1 (`name`).
    public var name: String = ""
    /// Field 2 (`plugin`).
    public var plugin: String = ""
    /// Field 3 (`state`).
    public var state: ModelState = ModelState(rawValue: 0)
    /// Field 4 (`error`).
    public var error: String = ""
    /// Field 5 (`model_dir`).
    public var modelDir: String = ""
    /// Field 6 (`version`).
    public var version: String = ""
    /// Field 7 (`embedding_space`).
    public var embeddingSpace: String = ""
    /// Field 8 (`modalities`).
    public var modalities: [String] = []
    /// Field 9 (`mime_types`).
    public var mimeTypes: [String] = []
    /// Field 10 (`dimension`).
    public var dimension: UInt32 = 0
    /// Field 11 (`metric`).
    public var metric: String = ""
    /// Field 12 (`normalized`).
    public var normalized: Bool = false
    /// Field 13 (`max_tokens`).
    public var maxTokens: UInt32 = 0
    /// Field 14 (`max_batch`).
    public var maxBatch: UInt32 = 0
    /// Field 15 (`preferred_batch`).
    public var preferredBatch: UInt32 = 0
    /// Field 16 (`generation`).
    public var generation: UInt64 = 0
    /// Field 17 (`in_flight`).
    public var inFlight: UInt32 = 0
    /// Field 18 (`is_default`).
    public var isDefault: Bool = false
    /// Field 19 (`max_input_bytes`).
    public var maxInputBytes: UInt64 = 0
    /// Field 20 (`plugin_calls`): calls into the plugin, after batching.
    public var pluginCalls: UInt64 = 0
    /// Field 21 (`inputs_embedded`).
    public var inputsEmbedded: UInt64 = 0

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(name: String = "", plugin: String = "", state: ModelState = ModelState(rawValue: 0), error: String = "", modelDir: String = "", version: String = "", embeddingSpace: String = "", modalities: [String] = [], mimeTypes: [String] = [], dimension: UInt32 = 0, metric: String = "", normalized: Bool = false, maxTokens: UInt32 = 0, maxBatch: UInt32 = 0, preferredBatch: UInt32 = 0, generation: UInt64 = 0, inFlight: UInt32 = 0, isDefault: Bool = false, maxInputBytes: UInt64 = 0, pluginCalls: UInt64 = 0, inputsEmbedded: UInt64 = 0) {
        self.name = name
        self.plugin = plugin
        self.state = state
        self.error = error
        self.modelDir = modelDir
        self.version = version
        self.embeddingSpace = embeddingSpace
        self.modalities = modalities
        self.mimeTypes = mimeTypes
        self.dimension = dimension
        self.metric = metric
        self.normalized = normalized
        self.maxTokens = maxTokens
        self.maxBatch = maxBatch
        self.preferredBatch = preferredBatch
        self.generation = generation
        self.inFlight = inFlight
        self.isDefault = isDefault
        self.maxInputBytes = maxInputBytes
        self.pluginCalls = pluginCalls
        self.inputsEmbedded = inputsEmbedded
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: name = try reader.readString(field, type)
        case 2: plugin = try reader.readString(field, type)
        case 3: state = ModelState(rawValue: try reader.readInt32(field, type))
        case 4: error = try reader.readString(field, type)
        case 5: modelDir = try reader.readString(field, type)
        case 6: version = try reader.readString(field, type)
        case 7: embeddingSpace = try reader.readString(field, type)
        case 8: modalities.append(try reader.readString(field, type))
        case 9: mimeTypes.append(try reader.readString(field, type))
        case 10: dimension = try reader.readUInt32(field, type)
        case 11: metric = try reader.readString(field, type)
        case 12: normalized = try reader.readBool(field, type)
        case 13: maxTokens = try reader.readUInt32(field, type)
        case 14: maxBatch = try reader.readUInt32(field, type)
        case 15: preferredBatch = try reader.readUInt32(field, type)
        case 16: generation = try reader.readUInt64(field, type)
        case 17: inFlight = try reader.readUInt32(field, type)
        case 18: isDefault = try reader.readBool(field, type)
        case 19: maxInputBytes = try reader.readUInt64(field, type)
        case 20: pluginCalls = try reader.readUInt64(field, type)
        case 21: inputsEmbedded = try reader.readUInt64(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, name)
        writer.string(2, plugin)
        writer.int(3, Int64(state.rawValue))
        writer.string(4, error)
        writer.string(5, modelDir)
        writer.string(6, version)
        writer.string(7, embeddingSpace)
        for v in modalities { writer.repeatedStringElement(8, v) }
        for v in mimeTypes { writer.repeatedStringElement(9, v) }
        writer.uint(10, UInt64(dimension))
        writer.string(11, metric)
        writer.bool(12, normalized)
        writer.uint(13, UInt64(maxTokens))
        writer.uint(14, UInt64(maxBatch))
        writer.uint(15, UInt64(preferredBatch))
        writer.uint(16, generation)
        writer.uint(17, UInt64(inFlight))
        writer.bool(18, isDefault)
        writer.uint(19, maxInputBytes)
        writer.uint(20, pluginCalls)
        writer.uint(21, inputsEmbedded)
    }
}
