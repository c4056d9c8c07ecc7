import Synchronization

/// A Prometheus counter: a count that only goes up. One relaxed atomic add per event, so it
/// is cheap on any thread (the event loop, batcher threads, store writers).
final class MetricCounter: Sendable {
    private let storage = Atomic<UInt64>(0)

    init() {}

    /// Adds `n` (default 1).
    func add(_ n: UInt64 = 1) { storage.add(n, ordering: .relaxed) }

    /// The count now.
    var value: UInt64 { storage.load(ordering: .relaxed) }
}
