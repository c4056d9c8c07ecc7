import Synchronization

/// A Prometheus gauge kept by the code it measures (one that goes up and down). Most of the
/// daemon's gauges are read when a scrape asks instead (queue depth, records, memory), so
/// this is for values nobody else holds.
final class MetricGauge: Sendable {
    private let storage = Atomic<Int64>(0)

    init() {}

    func set(_ v: Int64) { storage.store(v, ordering: .relaxed) }
    func add(_ n: Int64) { storage.add(n, ordering: .relaxed) }

    /// The value now.
    var value: Int64 { storage.load(ordering: .relaxed) }
}
