import EmbedConfig
import Synchronization

/// What the server and the services share about the daemon as a whole: where it is in its
/// life, the limits in force, the admin group and the counters Status reports.
///
/// Created first and handed to `Server` and `EmbedService` at construction, so that a service
/// never holds the server (a reload changes the limits here; Health reads the state here) and
/// dependencies run one way: Daemon → services → ServingState ← Server.
public final class ServingState: Sendable {
    private let stateBox = Mutex(LifecycleState.starting)
    private let limitsBox: Mutex<ServerLimits>
    private let adminGroupBox = Mutex<UInt32?>(nil)

    /// Calls started since the daemon started.
    public let callsTotal = Atomic<UInt64>(0)
    /// Calls started and not yet answered.
    public let callsInFlight = Atomic<Int>(0)
    /// Open client connections.
    public let connectionCount = Atomic<Int>(0)
    /// The series counted as things happen (calls, plugin calls, reloads, fsyncs).
    let metrics = MetricsRegistry()

    public init(limits: Limits) {
        limitsBox = Mutex(ServerLimits(limits))
    }

    /// The daemon's lifecycle state (Health, Status, reload and drain decisions).
    public var state: LifecycleState {
        get { stateBox.withLock { $0 } }
        set { stateBox.withLock { $0 = newValue } }
    }

    /// Sets the state to `to` only if it is `from` now; returns whether it did (a reload must
    /// not turn a draining daemon back to serving).
    @discardableResult
    public func transition(from: LifecycleState, to: LifecycleState) -> Bool {
        stateBox.withLock { s in
            guard s == from else { return false }
            s = to
            return true
        }
    }

    /// The limits the event loop enforces now.
    var limits: ServerLimits { limitsBox.withLock { $0 } }

    /// Replaces the limits; existing connections see them on their next frame.
    public func setLimits(_ l: Limits) { limitsBox.withLock { $0 = ServerLimits(l) } }

    /// The admin group (nil: uid 0 only).
    public var adminGroup: UInt32? { adminGroupBox.withLock { $0 } }

    /// Sets the admin group (nil = uid 0 only). Applies to new connections.
    public func setAdminGroup(_ gid: UInt32?) { adminGroupBox.withLock { $0 = gid } }
}
