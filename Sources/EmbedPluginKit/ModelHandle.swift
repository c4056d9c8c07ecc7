import CEmbedABI

/// A loaded model behind the ABI's `embedd_model *`: the plugin's model and its C description.
final class ModelHandle {
    let model: any EmbedPluginModel
    let storage: ModelInfoStorage
    let maxBatch: Int

    init(_ model: any EmbedPluginModel) {
        let d = model.modelDescription
        self.model = model
        storage = ModelInfoStorage(d)
        maxBatch = d.maxBatch
    }

    /// The whole-call checks every plugin needs, then the model's own embed.
    func embed(_ request: UnsafePointer<embedd_embed_request>) -> Int32 {
        let r = request.pointee
        func wholeCall(_ e: PluginError) -> Int32 {
            copyMessage(e.message, into: r.error, capacity: r.error_capacity)
            return e.status.code
        }
        guard let batch = EmbedBatch(r) else {
            return wholeCall(PluginError(EMBEDD_ERR_INTERNAL, "embed: empty batch or NULL buffers"))
        }
        guard batch.count <= maxBatch else {
            return wholeCall(PluginError(EMBEDD_ERR_TOO_LARGE, "batch of \(batch.count) inputs exceeds max_batch \(maxBatch)"))
        }
        if batch.cancellation.isRequested { return wholeCall(.cancelled) }
        do {
            try model.embed(batch)
            return EMBEDD_OK.code
        } catch {
            return wholeCall(error)
        }
    }
}
