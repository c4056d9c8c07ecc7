/// The systemd notification protocol, without libsystemd: one datagram of `KEY=VALUE` lines
/// sent to the socket named by `$NOTIFY_SOCKET` (a path, or "@name" for the abstract namespace).
///
/// See sd_notify(3). Messages: `READY=1`, `RELOADING=1` (with `MONOTONIC_USEC=`),
/// `STOPPING=1`, `STATUS=text`, `WATCHDOG=1`, `MAINPID=`.
public struct SdNotify: Sendable {
    /// Where messages go; nil when not started by systemd (every send is then a no-op).
    public let socketPath: String?

    /// Reads `$NOTIFY_SOCKET`.
    public init() {
        let p = Environment.get("NOTIFY_SOCKET")
        socketPath = (p?.isEmpty ?? true) ? nil : p
    }

    /// Uses an explicit socket path (tests).
    public init(socketPath: String?) { self.socketPath = socketPath }

    /// Whether a notify socket is configured.
    public var isEnabled: Bool { socketPath != nil }

    /// Sends `state` (newline-separated assignments). Errors are returned, not thrown: a
    /// daemon must keep running when its supervisor's socket is briefly unavailable.
    @discardableResult
    public func send(_ state: String) -> Errno? {
        guard let socketPath else { return nil }
        do {
            try UnixSocket.sendDatagram(Array(state.utf8), to: socketPath)
            return nil
        } catch {
            return error
        }
    }

    /// `READY=1` plus a status line.
    @discardableResult
    public func ready(status: String) -> Errno? { send("READY=1\nSTATUS=\(Self.line(status))") }

    /// `RELOADING=1` with the monotonic timestamp systemd ≥ 253 expects for Type=notify-reload.
    @discardableResult
    public func reloading(status: String) -> Errno? {
        send("RELOADING=1\nMONOTONIC_USEC=\(Clock.monotonicNanoseconds() / 1000)\nSTATUS=\(Self.line(status))")
    }

    /// `STOPPING=1` plus a status line.
    @discardableResult
    public func stopping(status: String) -> Errno? { send("STOPPING=1\nSTATUS=\(Self.line(status))") }

    /// `STATUS=` only.
    @discardableResult
    public func status(_ text: String) -> Errno? { send("STATUS=\(Self.line(text))") }

    /// Status text as one line: a newline in it (an error quoting a config value) would start
    /// another assignment of the notify message.
    static func line(_ text: String) -> String {
        String(text.unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) })
    }

    /// `WATCHDOG=1`: "still alive".
    @discardableResult
    public func watchdog() -> Errno? { send("WATCHDOG=1") }

    /// The watchdog interval systemd expects pings within, from `$WATCHDOG_USEC` (honouring
    /// `$WATCHDOG_PID` when set), in seconds; nil when no watchdog is configured for us.
    public static func watchdogInterval() -> Double? {
        watchdogInterval(usec: Environment.get("WATCHDOG_USEC"), pid: Environment.get("WATCHDOG_PID"), ourPID: Environment.processID)
    }

    /// The rule behind `watchdogInterval()`, on explicit values (testable without setenv).
    public static func watchdogInterval(usec: String?, pid: String?, ourPID: Int32) -> Double? {
        guard let usec = usec.flatMap({ UInt64($0) }), usec > 0 else { return nil }
        if let pid = pid.flatMap({ Int32($0) }), pid != ourPID { return nil }
        return Double(usec) / 1e6
    }

    /// The rule behind `listenDescriptors()`: descriptors 3…3+n-1 when `pid` is ours.
    public static func listenDescriptors(pid: String?, count: String?, ourPID: Int32) -> [FileDescriptor] {
        guard let pid = pid.flatMap({ Int32($0) }), pid == ourPID, let n = count.flatMap({ Int32($0) }), n > 0, n < 65536 else { return [] }
        return (0..<n).map { FileDescriptor(rawValue: 3 + $0) }
    }

    /// Descriptors passed by socket activation (`$LISTEN_FDS` starting at fd 3) when
    /// `$LISTEN_PID` is this process; the variables are then removed from the environment so
    /// they do not leak into children. Empty when not socket-activated.
    public static func listenDescriptors() -> [FileDescriptor] {
        let fds = listenDescriptors(pid: Environment.get("LISTEN_PID"), count: Environment.get("LISTEN_FDS"), ourPID: Environment.processID)
        if !fds.isEmpty {
            Environment.unset("LISTEN_PID")
            Environment.unset("LISTEN_FDS")
            Environment.unset("LISTEN_FDNAMES")
        }
        return fds
    }
}
