import EmbedWire

/// JSON and table renderings of the daemon's messages (stable keys: scripts rely on them).
enum Rendering {
    static func modelJSON(_ m: ModelInfo, indent: String) -> String {
        JSON.object([
            ("name", JSON.string(m.name)), ("plugin", JSON.string(m.plugin)), ("state", JSON.string(m.state.description)),
            ("error", JSON.string(m.error)), ("default", m.isDefault ? "true" : "false"), ("model_dir", JSON.string(m.modelDir)),
            ("version", JSON.string(m.version)), ("embedding_space", JSON.string(m.embeddingSpace)),
            ("modalities", "[" + m.modalities.map(JSON.string).joined(separator: ", ") + "]"),
            ("mime_types", "[" + m.mimeTypes.map(JSON.string).joined(separator: ", ") + "]"),
            ("dim", String(m.dimension)), ("metric", JSON.string(m.metric)), ("normalized", m.normalized ? "true" : "false"),
            ("max_tokens", String(m.maxTokens)), ("truncate", m.truncate ? "true" : "false"), ("max_batch", String(m.maxBatch)), ("preferred_batch", String(m.preferredBatch)),
            ("max_input_bytes", String(m.maxInputBytes)), ("generation", String(m.generation)), ("in_flight", String(m.inFlight)),
            ("plugin_calls", String(m.pluginCalls)), ("inputs_embedded", String(m.inputsEmbedded)),
            ("segment_seconds", EmbedCommand.seconds(m.segmentSeconds)),
            ("prompts", JSON.object(m.prompts.map { ($0.name, JSON.string($0.text)) }, indent: indent + "  ")),
            ("default_prompt", m.defaultPrompt.isEmpty ? "null" : JSON.string(m.defaultPrompt)),
            ("source", JSON.string(m.source)), ("source_file", JSON.string(m.sourceFile)),
        ], indent: indent)
    }

    static func pluginJSON(_ p: PluginInfo, indent: String) -> String {
        JSON.object([
            ("name", JSON.string(p.name)), ("version", JSON.string(p.version)), ("path", JSON.string(p.path)),
            ("abi_version", JSON.string(p.abiVersion)), ("description", JSON.string(p.description)),
        ], indent: indent)
    }

    static func modelsTable(_ models: [ModelInfo]) -> String {
        if models.isEmpty { return "no models configured\n" }
        // MAX_TOKENS: the window a longer text is cut to ("refuse" after it when the model's
        // `truncate: false` refuses such texts instead).
        // SOURCE: config, models.d (embedctl models load) or call (--temporary); "-" from a
        // daemon that does not say. PROMPTS: the model's sentence-transformers prompt names, the
        // default one marked *.
        return Table.render(["NAME", "STATE", "PLUGIN", "SOURCE", "DIM", "MAX_TOKENS", "SPACE", "MODALITIES", "PROMPTS", "GEN", "DETAIL"], models.map { m in
            [m.name + (m.isDefault ? " *" : ""), m.state.description, m.plugin.isEmpty ? "-" : m.plugin, m.source.isEmpty ? "-" : m.source,
             m.dimension == 0 ? "-" : String(m.dimension),
             m.maxTokens == 0 ? "-" : String(m.maxTokens) + (m.truncate ? "" : " refuse"),
             m.embeddingSpace.isEmpty ? "-" : m.embeddingSpace, m.modalities.isEmpty ? "-" : m.modalities.joined(separator: ","),
             m.prompts.isEmpty ? "-" : m.prompts.map { $0.name + ($0.name == m.defaultPrompt ? "*" : "") }.joined(separator: ","),
             m.generation == 0 ? "-" : String(m.generation), m.error.isEmpty ? m.modelDir : m.error]
        })
    }

    static func pluginsTable(_ plugins: [PluginInfo]) -> String {
        if plugins.isEmpty { return "no plugins loaded\n" }
        return Table.render(["NAME", "VERSION", "ABI", "PATH", "DESCRIPTION"], plugins.map { p in
            [p.name, p.version, p.abiVersion, p.path, p.description]
        })
    }

    static func duration(ms: UInt64) -> String {
        let s = ms / 1000
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        return "\(s / 3600)h\((s % 3600) / 60)m"
    }
}
