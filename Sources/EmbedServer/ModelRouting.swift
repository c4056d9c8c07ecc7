import EmbedPluginHost
import EmbedWire

/// Which loaded model embeds an input for a collection: the collection's own model when it takes
/// the input, else another loaded model of the same embedding space and dimension that takes
/// its media type. A video model declares the space of its frames model (CLIP), so one
/// collection bound to CLIP holds texts, pictures and videos: each input goes to the model
/// that reads it, and every vector lands in the one space.
extension EmbedService {
    /// The model for media of type `mimeType` given to a collection bound to `bound`, or nil
    /// when none of the collection's space takes it (the bound model then refuses it by name).
    func route(mimeType: String, bound: ModelSummary) -> ModelSummary? {
        if takes(bound, mimeType) { return bound }
        return loadedModels().first { m in
            m.name != bound.name && m.info.embeddingSpace == bound.info.embeddingSpace
                && m.info.dimension == bound.info.dimension && takes(m, mimeType)
        }
    }

    /// Whether `model` takes encoded media of this type (as bytes or as an open file).
    private func takes(_ model: ModelSummary, _ mimeType: String) -> Bool {
        let kinds = model.info.inputKinds
        guard kinds.contains(.encoded) || kinds.contains(.file) else { return false }
        return model.info.mimeTypes.isEmpty || model.info.mimeTypes.contains(mimeType)
    }

    /// The configured options of model `name` (`audio_model:` of a video model, say).
    func options(of name: String) -> [String: String] { configuredModel(name)?.config.options ?? [:] }
}

extension CallContext {
    /// Passed file `f` as an open-file input (ABI 1.1) when the model that will embed it reads
    /// files itself (`opens` says so for the file's media type): an hour of video then goes
    /// to the decoder without a copy and without `max_frame_bytes`. Nil when the file must be
    /// read as today (text, or a model that takes bytes). An untyped file gets the type its
    /// first bytes show when `sniff`.
    func openFileInput(_ f: FileRef, what: String, sniff: Bool, opens: (String) -> Bool) throws(RPCError) -> EmbedInput? {
        guard let files else {
            throw RPCError(.invalidArgument, "\(what): refers to file #\(f.index) but no descriptors were passed with the call")
        }
        var mimeType = f.mimeType
        if mimeType.isEmpty && sniff {
            mimeType = MediaSniffer.mimeType(try files.peek(f.index, count: 4096, what: what)) ?? ""
        }
        guard !mimeType.isEmpty, !TextContent.isText(mimeType), opens(mimeType) else { return nil }
        return .file(try files.openFile(f.index, what: what), mimeType: mimeType)
    }
}
