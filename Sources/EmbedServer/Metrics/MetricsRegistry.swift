import EmbedWire
import Synchronization

/// The daemon's own metric series: what is counted as it happens (calls, plugin calls, shed
/// calls, reloads, WAL fsyncs). What can be read when a scrape asks (queue depths, model
/// states, collection sizes, the process) is read then, by `MetricsService`, and never kept.
///
/// Series are looked up by label once — when a method is registered, when a model's batcher
/// starts — and their objects kept by whoever updates them, so the hot paths touch only
/// relaxed atomics. The lookups themselves take a mutex.
final class MetricsRegistry: Sendable {
    private let methods = Mutex<[UInt16: MethodMetrics]>([:])
    /// Calls of method ids no handler serves (UNIMPLEMENTED), under one `method="other"`
    /// series: a client sending random ids must not create series without bound.
    let otherMethods = MethodMetrics(method: "other")
    private let models = Mutex<[String: ModelMetrics]>([:])
    /// `embedd_wal_fsync_duration_seconds`: every collection's group-commit write + fdatasync.
    let walFsync = MetricHistogram.fsyncSeconds()

    init() {}

    /// The series of method `id`, created on first use (registration).
    func method(_ id: MethodID) -> MethodMetrics {
        methods.withLock { table in
            if let m = table[id.rawValue] { return m }
            let m = MethodMetrics(method: id.description)
            table[id.rawValue] = m
            return m
        }
    }

    /// The series of model `name`, created on first use.
    func model(_ name: String) -> ModelMetrics {
        models.withLock { table in
            if let m = table[name] { return m }
            let m = ModelMetrics()
            table[name] = m
            return m
        }
    }

    /// Writes the counted families: calls, call durations, plugin calls, batch sizes, shed
    /// calls, reloads, WAL fsyncs. Methods and models in name order.
    func write(into w: inout MetricsWriter) {
        let methodList = methods.withLock { Array($0.values) }.sorted { $0.method < $1.method } + [otherMethods]
        let modelList = models.withLock { $0.map { ($0.key, $0.value) } }.sorted { $0.0 < $1.0 }

        w.family("embedd_calls_total", .counter, help: "Calls answered, by method and gRPC status code (refused and abandoned calls included).")
        for m in methodList {
            for raw in 0..<UInt32(MethodMetrics.codeCount) {
                let code = StatusCode(rawValue: raw)
                let n = m.count(code)
                // OK always (a method's series exists from the start), other codes once seen.
                if n > 0 || (code == .ok && m !== otherMethods) {
                    w.sample("embedd_calls_total", [("method", m.method), ("code", code.description)], n)
                }
            }
        }
        w.family("embedd_call_duration_seconds", .histogram, help: "Time from reading a call's request to handing its reply to the connection, by method.")
        // Methods called at least once: 20 lines of zeros for each of the 25 methods a daemon
        // serves would bury the few that are used (a histogram may start with its first call).
        for m in methodList where m !== otherMethods && m.duration.snapshot().count > 0 {
            w.histogram([("method", m.method)], m.duration)
        }

        w.family("embedd_embed_duration_seconds", .histogram, help: "Duration of one plugin call (a batch of inputs), by model.")
        for (name, m) in modelList { w.histogram([("model", name)], m.embedDuration) }
        w.family("embedd_batch_size", .histogram, help: "Inputs per plugin call, by model (coalesced calls show as larger batches).")
        for (name, m) in modelList { w.histogram([("model", name)], m.batchSize) }
        w.family("embedd_shed_calls_total", .counter, help: "Embed calls refused at once by the model's batcher: queue full or deadline too near for the work queued ahead.")
        for (name, m) in modelList { w.sample("embedd_shed_calls_total", [("model", name)], m.shed.value) }
        w.family("embedd_model_reloads_total", .counter, help: "Hot swaps of a model (SIGHUP reload, ReloadPlugin) by result; after a failure the previous generation keeps serving.")
        for (name, m) in modelList {
            w.sample("embedd_model_reloads_total", [("model", name), ("result", "success")], m.reloadsSucceeded.value)
            w.sample("embedd_model_reloads_total", [("model", name), ("result", "failure")], m.reloadsFailed.value)
        }

        w.family("embedd_wal_fsync_duration_seconds", .histogram, help: "Write and fdatasync of one group commit to a collection's write-ahead log.")
        w.histogram([], walFsync)
    }
}
