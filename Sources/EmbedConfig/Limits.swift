/// The `limits:` section: what one client can make the daemon do.
public struct Limits: Sendable, Equatable {
    /// Largest frame payload accepted (bytes); larger frames close the connection.
    public var maxFrameBytes: Int = 64 << 20
    /// Connections served at once; more are refused with RESOURCE_EXHAUSTED.
    public var maxConnections: Int = 256
    /// Connections one uid may hold at once (uid 0 and the admin group are not counted against
    /// it): one user must not take every slot.
    public var maxConnectionsPerUID: Int = 64
    /// `limits.reserved_connections` as configured (nil: not set; see `reservedConnections`).
    public var reservedConnectionsSetting: Int? = nil
    /// Of `maxConnections`, the slots only uid 0 and the admin group may take, so an operator
    /// can still connect (and see what is going on) while other users hold every other slot.
    /// Default 8, or a quarter of `maxConnections` if that is fewer.
    public var reservedConnections: Int { reservedConnectionsSetting ?? min(8, maxConnections / 4) }
    /// A frame must arrive whole within this long of its first byte (seconds); a client that
    /// sends it slower (a trickle that would pin its buffer) gets GOAWAY and is disconnected.
    public var frameTimeoutSeconds: Double = 30
    /// Bytes of partly received frames held for all connections together; past it the daemon
    /// stops reading more of a large frame until others complete (back-pressure), so slow
    /// senders cannot pin memory without bound. Each connection may always buffer 64 KiB.
    public var maxBufferedBytes: Int = 256 << 20
    /// Descriptors one request may pass (`SCM_RIGHTS`); a message with more is refused and its
    /// descriptors closed.
    public var maxDescriptorsPerCall: Int = 64
    /// Calls in flight on one connection; more are refused with RESOURCE_EXHAUSTED.
    public var maxCallsPerConnection: Int = 64
    /// A connection without calls and without traffic for this long is closed (seconds).
    public var idleTimeoutSeconds: Double = 300
    /// Deadline for a call whose request carries none, and upper bound for those that do (seconds).
    public var callDeadlineSeconds: Double = 60
    /// How long SIGTERM waits for calls in flight before cancelling them (seconds).
    public var drainTimeoutSeconds: Double = 30
    /// `limits.stuck_call_timeout` as configured (nil: not set; see `stuckCallTimeoutSeconds`).
    public var stuckCallTimeoutSetting: Double? = nil
    /// A model's plugin work for one batch running longer than this counts as wedged (a plugin
    /// that ignores cancellation and never returns): under a systemd watchdog the daemon stops
    /// pinging it, so systemd restarts the daemon. Default 5 min, or twice `call_deadline` if
    /// that is longer (a call is cancelled at its deadline, between the plugin's chunks).
    public var stuckCallTimeoutSeconds: Double { stuckCallTimeoutSetting ?? max(300, 2 * callDeadlineSeconds) }
    /// `limits.stop_timeout` as configured (nil: not set; see `stopTimeoutSeconds`).
    public var stopTimeoutSetting: Double? = nil
    /// The drain plus stopping the models' batcher threads must finish within this, and so must
    /// releasing the models, or the daemon exits with status 1 without waiting further (e.g. for
    /// a plugin call that never returns). Default 40 s, or `drain_timeout` + 10 s if that is
    /// longer; below systemd's TimeoutStopSec (45 s in our unit) with the default drain.
    public var stopTimeoutSeconds: Double { stopTimeoutSetting ?? max(40, drainTimeoutSeconds + 10) }
    /// Inputs in one Embed call, items in one Upsert, queries in one Search, keys in one Get or
    /// Delete.
    public var maxInputsPerCall: Int = 1024
    /// After a turn that started a call, with no call left in flight (the loop answered it
    /// itself: Health, short searches), the event loop polls without sleeping for this long
    /// (seconds; 0: never) before it blocks: a client's next call then finds it awake instead
    /// of paying for a CPU's wake-up on a VM whose idle CPUs halt (docs/operations.md).
    /// Costs at most this much CPU per such call.
    public var busyPollSeconds: Double = 0.000_150

    /// The defaults documented in etc/embedd/embedd.yaml.
    public init() {}
}
