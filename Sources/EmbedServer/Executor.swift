/// Where a method's handler runs.
public enum Executor: Sendable {
    /// On the event-loop thread, at once: only for cheap handlers that never block.
    case inline
    /// On the compute pool (plugin calls).
    case compute
    /// On the single admin thread, one at a time (loads, swaps, reloads).
    case admin
    /// Started on the event loop (which must not block), answered later from another thread
    /// through a completion: how Embed hands calls to the per-model batchers.
    case deferred
}
