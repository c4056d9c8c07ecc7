@preconcurrency import Glibc

/// A descriptor other threads can make readable to wake a thread sleeping in `poll`
/// (`eventfd`): how worker threads tell the event loop that replies are queued.
public final class WakeupEvent: Sendable {
    /// The eventfd (non-blocking, close-on-exec).
    public let descriptor: FileDescriptor

    /// Creates the eventfd.
    public init() throws(Errno) {
        let fd = try checkingErrno { LinuxCalls.eventfd(0, LinuxCalls.EFD_NONBLOCK | LinuxCalls.EFD_CLOEXEC) }
        descriptor = FileDescriptor(rawValue: fd)
    }

    deinit { try? descriptor.close() }

    /// Makes the descriptor readable (adds 1 to the counter). Safe from any thread.
    public func signal() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { Glibc.write(descriptor.rawValue, $0.baseAddress, 8) }
    }

    /// Resets the counter so the descriptor is no longer readable.
    public func reset() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { Glibc.read(descriptor.rawValue, $0.baseAddress, 8) }
    }
}
