@preconcurrency import Glibc

/// Turns signals into readable events on a descriptor (`signalfd`), so the server's poll loop
/// handles SIGTERM and SIGHUP like any other input — no async-signal-safety puzzles.
///
/// Signals must be blocked in every thread for signalfd to receive them; threads inherit the
/// mask of their creator, so call `blockAndCreate` on the main thread before starting any.
public final class Signals: Sendable {
    /// The signalfd descriptor (non-blocking, close-on-exec).
    public let descriptor: FileDescriptor

    public static let hangUp: Int32 = SIGHUP
    public static let terminate: Int32 = SIGTERM
    public static let interrupt: Int32 = SIGINT
    public static let quit: Int32 = SIGQUIT

    private init(descriptor: FileDescriptor) { self.descriptor = descriptor }

    /// Blocks `signals` in the calling thread (`pthread_sigmask`) and opens a signalfd for them.
    public static func blockAndCreate(_ signals: [Int32]) throws(Errno) -> Signals {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        let rc = pthread_sigmask(SIG_BLOCK, &set, nil)
        if rc != 0 { throw Errno(rawValue: rc) }
        let fd = try checkingErrno { LinuxCalls.signalfd(-1, &set, LinuxCalls.SFD_NONBLOCK | LinuxCalls.SFD_CLOEXEC) }
        return Signals(descriptor: FileDescriptor(rawValue: fd))
    }

    /// Unblocks `signals` in the calling thread (`pthread_sigmask(SIG_UNBLOCK)`): their
    /// disposition applies again (for SIGINT with no handler, the process ends).
    public static func unblock(_ signals: [Int32]) throws(Errno) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        let rc = pthread_sigmask(SIG_UNBLOCK, &set, nil)
        if rc != 0 { throw Errno(rawValue: rc) }
    }

    /// Ignores SIGPIPE for the whole process (writes to closed sockets then fail with EPIPE).
    public static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Reads the pending signals; returns their numbers (empty when none is pending).
    public func drain() -> [Int32] {
        var result: [Int32] = []
        var info = [UInt8](repeating: 0, count: LinuxCalls.signalfdSiginfoSize)
        while true {
            let n = info.withUnsafeMutableBytes { Glibc.read(descriptor.rawValue, $0.baseAddress, $0.count) }
            guard n == LinuxCalls.signalfdSiginfoSize else { break }
            result.append(Int32(info.withUnsafeBytes { $0.load(as: UInt32.self) }))
        }
        return result
    }

    /// Sends `signal` to this process (`kill(getpid())`), e.g. for tests.
    public static func raise(_ signal: Int32) {
        _ = Glibc.kill(getpid(), signal)
    }

    /// Sends `signal` to process `pid` (`kill(2)`).
    public static func send(_ signal: Int32, to pid: Int32) throws(Errno) {
        _ = try checkingErrno { Glibc.kill(pid, signal) }
    }
}

extension Signals {
    /// Sends `signal` to the calling thread only (`pthread_kill(pthread_self())`): the signal
    /// stays pending on this thread, where `blockAndCreate` blocked it, so tests can exercise
    /// the signalfd without disturbing other threads.
    public static func raiseOnCurrentThread(_ signal: Int32) {
        _ = pthread_kill(pthread_self(), signal)
    }
}
