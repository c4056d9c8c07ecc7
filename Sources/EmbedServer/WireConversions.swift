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
        truncate = entry.config.truncate
        prompts = entry.prompts.prompts.map { ModelPrompt(name: $0.name, text: $0.text) }
        defaultPrompt = entry.prompts.defaultName ?? ""
        source = entry.source.rawValue
        sourceFile = entry.sourceFile
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
            segmentSeconds = m.info.segmentSeconds
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

extension EmbedWire.InputUsage {
    /// The wire form of one input's token counts; nil when the model did not count it.
    init?(_ u: TokenUsage) {
        guard u.isCounted else { return nil }
        self.init(tokens: UInt32(clamping: u.tokens), used: UInt32(clamping: u.used), truncated: u.truncated,
                  chunks: UInt32(clamping: u.chunks))
    }
}

extension PluginInfo {
    init(_ p: PluginSummary) {
        self.init(name: p.name, version: p.version, path: p.path, abiVersion: p.abiVersion, description: p.description)
    }
}

extension EmbedInput {
    /// The host's form of a wire input, checked: nil for `.file` (the caller resolves passed
    /// descriptors first). `what` names the input in errors ("input 3").
    /// - Throws: `INVALID_ARGUMENT` for an empty input, pixels whose byte count is not
    ///   width × height × 3 (computed without overflow: sizes come from the client), or audio
    ///   without a sample rate.
    init?(wire input: Input, what: String) throws(RPCError) {
        switch input.kind {
        case .none: throw RPCError(.invalidArgument, "\(what) is empty (set text, media, pixels, audio or file)")
        case .text(let s): self = .text(s)
        case .media(let m):
            // `text/*` is text, whatever path it came by: decoded by its charset.
            if TextContent.isText(m.mimeType) {
                self = .text(try TextContent.decode(m.data, mimeType: m.mimeType, what: what))
            } else {
                self = .encoded(bytes: m.data, mimeType: m.mimeType)
            }
        case .pixels(let p):
            let (area, o1) = Int(p.width).multipliedReportingOverflow(by: Int(p.height))
            let (bytes, o2) = area.multipliedReportingOverflow(by: 3)
            guard p.width > 0, p.height > 0, !o1, !o2, p.rgb8.count == bytes else {
                throw RPCError(.invalidArgument, "\(what): pixels hold \(p.rgb8.count) bytes, expected width × height × 3 "
                               + "for \(p.width) × \(p.height)")
            }
            self = .rgb8(pixels: p.rgb8, width: Int(p.width), height: Int(p.height))
        case .audio(let a):
            guard a.sampleRate > 0 else { throw RPCError(.invalidArgument, "\(what): audio needs a sample_rate") }
            self = .pcm(samples: a.samples, sampleRate: Int(a.sampleRate))
        case .file: return nil
        }
    }
}
