/// The series the daemon keeps per model name: plugin-call durations and batch sizes, calls
/// shed by its batcher, hot-swap results. They outlive an unload (counters never go back);
/// the model's state, generation and queue depth are read when a scrape asks.
final class ModelMetrics: Sendable {
    /// `embedd_embed_duration_seconds`: one plugin call (a batch), in ns.
    let embedDuration = MetricHistogram.embedSeconds()
    /// `embedd_batch_size`: inputs per plugin call.
    let batchSize = MetricHistogram.batchSize()
    /// `embedd_shed_calls_total`: Embed calls the batcher refused at once (queue full, or the
    /// work queued ahead outlasts the call's deadline).
    let shed = MetricCounter()
    /// `embedd_model_reloads_total{result="success"}` / `{result="failure"}`: hot swaps
    /// (SIGHUP, ReloadPlugin), a failed one leaving the previous generation serving.
    let reloadsSucceeded = MetricCounter()
    let reloadsFailed = MetricCounter()

    init() {}
}
