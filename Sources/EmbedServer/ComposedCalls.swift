import EmbedPluginHost
import EmbedSys

/// Plugins' calls to embed with another loaded model (ABI 1.1 `embed_with`: the video
/// plugin's frames through CLIP, its sound through Whisper) go through that model's batcher,
/// like a client's call: the same queue bound, batching and stuck-call watch, and the model's
/// current generation (a hot swap is seen by the next call, without a failed one).
extension EmbedService {
    /// Wires the plugin host's composition to the batchers (at start-up).
    func routeComposedCalls(_ host: PluginHost) {
        host.routeComposedCalls { [weak self] name, inputs, cancel, segments throws(PluginError) in
            guard let self else { throw PluginError(.shuttingDown, "the daemon is shutting down") }
            return try self.embedComposed(name, inputs, cancel: cancel, segments: segments)
        }
    }

    /// Queues `inputs` on model `name`'s batcher and waits (on the calling plugin's thread).
    private func embedComposed(_ name: String, _ inputs: [EmbedInput], cancel: CancellationFlag?,
                               segments: Bool) throws(PluginError) -> EmbedBatch {
        guard loadedModel(named: name) != nil else {
            let state = configuredModel(name).map { e in e.state == .loading ? "is still loading" : "is not loaded (\(e.state): \(e.error))" }
            throw PluginError(.unknownModel, "model '\(name)' \(state ?? "is not configured")")
        }
        let batcher: ModelBatcher
        do { batcher = try self.batcher(for: name) } catch { throw PluginError(.batchFailed, error.message) }
        // The composing call has its own deadline (the client's); this one only bounds a call
        // that would otherwise wait forever: the stuck-call limit.
        let deadline = Clock.monotonicNanoseconds() + UInt64(config.limits.stuckCallTimeoutSeconds * 1e9)
        let done = ConditionLock()
        nonisolated(unsafe) var outcome: Result<BatchSlice, RPCError>? = nil  // guarded by `done`
        var job = EmbedJob(inputs: inputs, caller: -1, cancellation: cancel ?? CancellationFlag(), deadline: deadline,
                           queuedAt: Clock.monotonicNanoseconds(), refuseTruncation: false) { result in
            done.withLock {
                outcome = result
                done.broadcast()
            }
        }
        job.segments = segments
        if let refused = batcher.submit(job) { throw PluginError(.batchFailed, refused.message) }
        let result = done.withLock { () -> Result<BatchSlice, RPCError> in
            while outcome == nil { done.wait() }
            return outcome!
        }
        switch result {
        case .failure(let e):
            throw PluginError(e.code == .cancelled ? .cancelled : .batchFailed, e.message)
        case .success(let slice):
            var batch = EmbedBatch(dimension: slice.dimension, vectors: slice.vectors, failures: slice.failures,
                                   modelVersion: slice.modelVersion, generation: slice.generation, embeddingSpace: slice.embeddingSpace)
            batch.usage = slice.usage
            batch.segments = slice.segments
            return batch
        }
    }
}
