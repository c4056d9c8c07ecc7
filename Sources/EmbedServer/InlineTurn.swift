/// The event loop's permission, once per turn, for a deferred method's start to do a short
/// piece of work right there instead of handing it to a thread: the gain is a worker's
/// wake-up on a lone client's call; taking it at most once per turn keeps a burst of requests
/// spread over the worker threads.
///
/// Handlers reach it through `CallContext.claimInlineTurn()`.
final class InlineTurn: @unchecked Sendable {
    // Invariant: touched only by the event-loop thread (the server resets it at the start of
    // each turn; a deferred start, which runs on the loop, claims it). CallContext carries the
    // reference to worker threads too, but they never call it (see `claimInlineTurn`).
    private var taken = false

    /// Whether the slot is still free this turn.
    var available: Bool { !taken }

    /// Takes this turn's slot; false if it is taken.
    func claim() -> Bool {
        if taken { return false }
        taken = true
        return true
    }

    /// A new turn of the loop.
    func reset() { taken = false }
}
