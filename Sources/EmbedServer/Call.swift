import EmbedPluginHost
import EmbedWire
import Synchronization

/// One call in flight: enough to answer it exactly once, from whichever thread gets there
/// first (the worker with a result, the event loop with a cancel or an expired deadline).
final class Call: Sendable {
    let id: UInt32
    let method: MethodID
    let deadline: UInt64
    let cancellation = CancellationFlag()
    private let answered = Atomic<Bool>(false)

    init(id: UInt32, method: MethodID, deadline: UInt64) {
        self.id = id
        self.method = method
        self.deadline = deadline
    }

    /// Claims the right to answer; true exactly once.
    func claim() -> Bool {
        answered.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    var isAnswered: Bool { answered.load(ordering: .acquiring) }
}
