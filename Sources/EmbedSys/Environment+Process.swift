@preconcurrency import Glibc

/// The daemon's additions to `Environment`: changing variables and the process's identity.
extension Environment {
    /// Sets an environment variable (`setenv`, overwriting).
    public static func set(_ name: String, _ value: String) {
        setenv(name, value, 1)
    }

    /// Removes an environment variable (`unsetenv`), e.g. `LISTEN_FDS` once consumed, so
    /// children do not inherit it.
    public static func unset(_ name: String) {
        unsetenv(name)
    }

    /// This process's id (`getpid`).
    public static var processID: Int32 { getpid() }
    /// The real user id (`getuid`).
    public static var userID: UInt32 { getuid() }
    /// The real group id (`getgid`).
    public static var groupID: UInt32 { getgid() }

    /// The current working directory (`getcwd`).
    public static var workingDirectory: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Ends the process with `status` (`exit`).
    public static func exit(_ status: Int32) -> Never {
        Glibc.exit(status)
    }

    /// Ends the process with `status` at once (`_exit`): no atexit handlers, no stdio flush,
    /// no waiting on other threads — for a stop that is stuck in a thread that will not return.
    public static func exitImmediately(_ status: Int32) -> Never {
        Glibc._exit(status)
    }
}
