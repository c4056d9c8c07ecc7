@preconcurrency import Glibc

/// Linux-only libc functions that Swift's Glibc module does not import (they are declared
/// under `_GNU_SOURCE`): looked up once with `dlsym` and called through typed C pointers.
/// Every symbol exists in glibc ≥ 2.10, so a failed lookup is a broken system: we trap with
/// the name rather than limp along.
enum LinuxCalls {
    typealias SignalFD = @convention(c) (Int32, UnsafePointer<sigset_t>, Int32) -> Int32
    typealias EventFD = @convention(c) (UInt32, Int32) -> Int32
    typealias Accept4 = @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32

    /// `signalfd(2)`.
    static let signalfd: SignalFD = lookup("signalfd")
    /// `eventfd(2)`.
    static let eventfd: EventFD = lookup("eventfd")
    /// `accept4(2)`.
    static let accept4: Accept4 = lookup("accept4")

    // Flag values from <sys/signalfd.h>, <sys/eventfd.h>, <sys/socket.h> (x86-64 and aarch64).
    static let SFD_NONBLOCK: Int32 = 0o4000
    static let SFD_CLOEXEC: Int32 = 0o2000000
    static let EFD_NONBLOCK: Int32 = 0o4000
    static let EFD_CLOEXEC: Int32 = 0o2000000
    static let SOCK_NONBLOCK: Int32 = 0o4000
    static let SOCK_CLOEXEC: Int32 = 0o2000000
    /// `SO_PEERGROUPS` from <asm-generic/socket.h>.
    static let SO_PEERGROUPS: Int32 = 59
    /// Size of `struct signalfd_siginfo`; its first field is `uint32_t ssi_signo`.
    static let signalfdSiginfoSize = 128

    /// `struct ucred` from <sys/socket.h> (`SO_PEERCRED`): pid_t, uid_t, gid_t.
    struct UCred {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    private static func lookup<F>(_ name: String) -> F {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, name) else {
            fatalError("libc has no \(name); embedd needs Linux with glibc")
        }
        return unsafeBitCast(symbol, to: F.self)
    }
}
