import EmbedPluginHost
import EmbedSys
import EmbedWire
import Synchronization

/// One call in flight: enough to answer it exactly once, from whichever thread gets there
/// first (the worker with a result, the event loop with a cancel or an expired deadline).
final class Call: Sendable {
    let id: UInt32
    let method: MethodID
    let deadline: UInt64
    /// When the event loop read its REQUEST (monotonic ns), for its duration.
    let started: UInt64
    /// Its method's series, counted when it is answered.
    let metrics: MethodMetrics
    let cancellation = CancellationFlag()
    private let answered = Atomic<Bool>(false)

    init(id: UInt32, method: MethodID, deadline: UInt64, started: UInt64, metrics: MethodMetrics) {
        self.id = id
        self.method = method
        self.deadline = deadline
        self.started = started
        self.metrics = metrics
    }

    /// Counts the call as ended with `code` (by whoever claimed it).
    func recordEnd(_ code: StatusCode) {
        let now = Clock.monotonicNanoseconds()
        metrics.record(code, nanoseconds: now > started ? now - started : 0)
    }

    /// Claims the right to answer; true exactly once.
    func claim() -> Bool {
        answered.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    var isAnswered: Bool { answered.load(ordering: .acquiring) }
}
