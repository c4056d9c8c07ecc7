/// Where a method's handler runs.
public enum Executor: Sendable {
    /// On the event-loop thread, at once: only for cheap handlers that never block.
    case inline
    /// On the compute pool (plugin calls).
    case compute
    /// On the single admin thread, one at a time (loads, swaps, reloads).
    case admin
}
