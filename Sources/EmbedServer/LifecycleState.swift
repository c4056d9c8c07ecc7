/// Where the daemon is in its life; reported by Status and Health.
public enum LifecycleState: String, Sendable {
    case starting, serving, reloading, draining, stopped
}
