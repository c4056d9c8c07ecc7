import EmbedPluginHost
import EmbedWire

extension EmbedWire.ModelInfo {
    /// The wire description of a configured model and, when loaded, the host's view of it.
    init(entry: ModelEntry, loaded: ModelSummary?, isDefault: Bool) {
        self.init()
        name = entry.config.name
        plugin = entry.config.plugin
        state = entry.state
        error = entry.error
        modelDir = entry.directory
        self.isDefault = isDefault
        if let m = loaded {
            plugin = m.plugin.name
            modelDir = m.spec.modelDirectory
            version = m.info.version
            embeddingSpace = m.info.embeddingSpace
            modalities = m.info.modalities.names
            mimeTypes = m.info.mimeTypes
            dimension = UInt32(clamping: m.info.dimension)
            metric = m.info.metric.rawValue
            normalized = m.info.normalized
            maxTokens = UInt32(clamping: m.info.maxTokens)
            maxBatch = UInt32(clamping: m.info.maxBatch)
            preferredBatch = UInt32(clamping: m.info.preferredBatch)
            generation = UInt64(clamping: m.generation)
            inFlight = UInt32(clamping: m.inFlight)
            maxInputBytes = UInt64(clamping: m.info.maxInputBytes)
            pluginCalls = UInt64(clamping: m.calls)
            inputsEmbedded = UInt64(clamping: m.inputs)
        }
    }
}

extension PluginInfo {
    init(_ p: PluginSummary) {
        self.init(name: p.name, version: p.version, path: p.path, abiVersion: p.abiVersion, description: p.description)
    }
}
