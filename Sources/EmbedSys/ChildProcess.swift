@preconcurrency import Glibc

/// A child process started with `posix_spawn`, which tests and tools can signal and reap.
public struct ChildProcess: Sendable {
    /// The child's process id.
    public let pid: Int32

    /// Starts `executable` with `arguments` (argv[0] is added) and the parent's environment
    /// (`posix_spawn`). Standard output and error go to `outputPath` when given.
    /// - Throws: `Errno` from `posix_spawn`.
    public static func spawn(_ executable: String, arguments: [String], outputPath: String? = nil) throws(Errno) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let outputPath {
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = argv.withUnsafeBufferPointer { buffer in
            posix_spawn(&pid, executable, &actions, nil, buffer.baseAddress!, environ)
        }
        guard rc == 0 else { throw Errno(rawValue: rc) }
        return ChildProcess(pid: pid)
    }

    /// Sends `signal` to the child (`kill(2)`), e.g. `ChildProcess.killSignal`.
    public func send(signal: Int32) throws(Errno) {
        _ = try checkingErrno { Glibc.kill(pid, signal) }
    }

    /// `SIGKILL`.
    public static let killSignal: Int32 = SIGKILL
    /// `SIGTERM`.
    public static let terminateSignal: Int32 = SIGTERM

    /// How a reaped child ended.
    public enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
    }

    /// Waits for the child to end (`waitpid`).
    public func wait() throws(Errno) -> Termination {
        var status: Int32 = 0
        _ = try retryingOnInterrupt { Glibc.waitpid(pid, &status, 0) }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros, spelled out here.
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signalled(status & 0x7f)
    }

    /// Sleeps the calling thread (`nanosleep`).
    public static func sleep(seconds: Double) {
        var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var left = timespec()
        while Glibc.nanosleep(&ts, &left) != 0 && errno == EINTR { ts = left }
    }
}
