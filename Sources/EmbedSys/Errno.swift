@preconcurrency import Glibc

/// A POSIX error number, thrown by every EmbedSys wrapper whose C function reports `errno`.
///
/// Modelled on swift-system's `Errno`: a typed wrapper around the raw value, with the C
/// library's message (`strerror_r`) as its description.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The raw `errno` value.
    public let rawValue: Int32

    /// Wraps a raw `errno` value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current `errno` (read it right after the failing call).
    public static var current: Errno { Errno(rawValue: errno) }

    /// The C library's message for this error (`strerror_r`).
    public var description: String {
        var buffer = [CChar](repeating: 0, count: 256)
        // Swift sees the XSI strerror_r, which fills `buffer` and returns 0 on success.
        let rc = buffer.withUnsafeMutableBufferPointer { strerror_r(rawValue, $0.baseAddress!, $0.count) }
        guard rc == 0 else { return "errno \(rawValue)" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    public static let interrupted = Errno(rawValue: EINTR)
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    public static let noSuchFile = Errno(rawValue: ENOENT)
    public static let fileExists = Errno(rawValue: EEXIST)
    public static let invalidArgument = Errno(rawValue: EINVAL)
    public static let permissionDenied = Errno(rawValue: EACCES)
    public static let notPermitted = Errno(rawValue: EPERM)
    public static let brokenPipe = Errno(rawValue: EPIPE)
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    public static let tooManyOpenFiles = Errno(rawValue: EMFILE)
    public static let fileTableOverflow = Errno(rawValue: ENFILE)
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    public static let inProgress = Errno(rawValue: EINPROGRESS)
    public static let noSpace = Errno(rawValue: ENOSPC)
    public static let diskQuotaExceeded = Errno(rawValue: EDQUOT)
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    public static let isDirectory = Errno(rawValue: EISDIR)
    public static let notASocket = Errno(rawValue: ENOTSOCK)
}

/// Runs a syscall wrapper, retrying while it fails with `EINTR`; throws the `Errno` otherwise.
///
/// `body` returns the C function's result; `-1` means failure with `errno` set.
@inline(never)
public func retryingOnInterrupt<T: FixedWidthInteger>(_ body: () -> T) throws(Errno) -> T {
    while true {
        // A test's injected EINTR (`InjectedInterrupts`) stands in for the call's result.
        let result = InjectedInterrupts.isArmed && InjectedInterrupts.takeOne() ? -1 : body()
        if result != -1 { return result }
        let error = Errno.current
        if error != .interrupted { throw error }
    }
}

/// Runs a syscall once (no EINTR retry, e.g. for `close`); throws the `Errno` on `-1`.
@inline(never)
public func checkingErrno<T: FixedWidthInteger>(_ body: () -> T) throws(Errno) -> T {
    let result = body()
    if result == -1 { throw Errno.current }
    return result
}
