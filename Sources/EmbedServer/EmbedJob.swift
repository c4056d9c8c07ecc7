import EmbedPluginHost

/// One Embed call waiting in a model's batcher.
struct EmbedJob: Sendable {
    let inputs: [EmbedInput]
    /// The connection it came on: the batcher expects a caller it just answered to come back.
    let caller: Int
    let cancellation: CancellationFlag
    /// Monotonic deadline in nanoseconds.
    let deadline: UInt64
    /// When the job was queued (monotonic ns), for the batching delay.
    let queuedAt: UInt64
    /// Whether a text the model cuts to its window fails instead (truncation off).
    let refuseTruncation: Bool
    /// Whether the caller wants each input's segments too (ABI 1.1; audio and video models).
    var segments = false
    /// Receives this job's rows of the batch, or the error that failed the whole batch.
    let complete: @Sendable (Result<BatchSlice, RPCError>) -> Void
}
