@preconcurrency import Glibc

/// TCP stream sockets over IPv4 and IPv6, on top of `FileDescriptor`: listen, accept, connect
/// with a timeout, `TCP_NODELAY`, and the names a socket is bound or connected to.
///
/// Like `UnixSocket`, every descriptor is close-on-exec. Reading and writing use `UnixSocket`'s
/// `send`/`sendAll`/`receive`/`shutdownWrite`/`setReceiveTimeout`, which work on any stream
/// socket (sends use `MSG_NOSIGNAL`). Host names are not resolved: an IP literal or "localhost".
public enum TCPSocket {
    /// The address family of an endpoint.
    public enum Family: Sendable { case ipv4, ipv6 }

    /// A resolved socket address (a `sockaddr_storage` holding `sockaddr_in` or `sockaddr_in6`).
    struct Address {
        var storage = sockaddr_storage()
        var length: socklen_t = 0
        var family: Family = .ipv4
    }

    /// The `sockaddr` for `endpoint`: `inet_pton` of the literal ("localhost" is 127.0.0.1).
    /// Throws `EINVAL` for a host that is not a literal.
    static func socketAddress(_ endpoint: TCPEndpoint) throws(Errno) -> Address {
        var result = Address()
        let host = endpoint.host == "localhost" ? "127.0.0.1" : endpoint.host
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = endpoint.port.bigEndian
            withUnsafeMutableBytes(of: &result.storage) { dst in withUnsafeBytes(of: v4) { dst.copyMemory(from: $0) } }
            result.length = socklen_t(MemoryLayout<sockaddr_in>.size)
            result.family = .ipv4
            return result
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = endpoint.port.bigEndian
            withUnsafeMutableBytes(of: &result.storage) { dst in withUnsafeBytes(of: v6) { dst.copyMemory(from: $0) } }
            result.length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            result.family = .ipv6
            return result
        }
        throw Errno.invalidArgument
    }

    private static func newSocket(_ family: Family) throws(Errno) -> Int32 {
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        return try checkingErrno { Glibc.socket(domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
    }

    private static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws(Errno) {
        var v = value
        _ = try checkingErrno { Glibc.setsockopt(fd, level, name, &v, socklen_t(4)) }
    }

    /// Creates a listening socket bound to `endpoint` (`SO_REUSEADDR`, so a restart does not
    /// wait out TIME_WAIT; an IPv6 socket is `IPV6_V6ONLY`, so `[::]` and `0.0.0.0` can both be
    /// bound). Port 0 picks a free port: read it back with `localEndpoint`.
    @inline(never)
    public static func listen(_ endpoint: TCPEndpoint, backlog: Int32 = 512) throws(Errno) -> FileDescriptor {
        var address = try socketAddress(endpoint)
        let fd = try newSocket(address.family)
        do {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if address.family == .ipv6 { try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
            let length = address.length
            _ = try checkingErrno {
                withUnsafePointer(to: &address.storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) } }
            }
            _ = try checkingErrno { Glibc.listen(fd, backlog) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return FileDescriptor(rawValue: fd)
    }

    /// Accepts one connection, non-blocking and close-on-exec, with `TCP_NODELAY` set.
    /// - Returns: nil when no connection is pending (`EAGAIN`).
    public static func accept(_ listener: FileDescriptor) throws(Errno) -> FileDescriptor? {
        guard let fd = try UnixSocket.accept(listener) else { return nil }
        try? setNoDelay(fd)
        return fd
    }

    /// Connects to `endpoint`, giving up after `timeoutMilliseconds` (`ETIMEDOUT`); the socket
    /// comes back blocking, with `TCP_NODELAY` set.
    @inline(never)
    public static func connect(_ endpoint: TCPEndpoint, timeoutMilliseconds: Int32 = 10_000) throws(Errno) -> FileDescriptor {
        var address = try socketAddress(endpoint)
        let raw = try newSocket(address.family)
        let fd = FileDescriptor(rawValue: raw)
        do throws(Errno) {
            try fd.setNonBlocking(true)
            let length = address.length
            let rc = withUnsafePointer(to: &address.storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(raw, $0, length) }
            }
            if rc != 0 {
                let e = Errno.current
                guard e == .inProgress || e == .interrupted else { throw e }
                var entries = [Poll.Entry(fd, .writable)]
                let deadline = Clock.monotonicNanoseconds() + UInt64(max(0, timeoutMilliseconds)) * 1_000_000
                while true {
                    let now = Clock.monotonicNanoseconds()
                    guard now < deadline else { throw Errno.timedOut }
                    let left = Int32(min(UInt64(Int32.max), (deadline - now + 999_999) / 1_000_000))
                    if try Poll.wait(&entries, timeoutMilliseconds: left) > 0 { break }
                }
                var soError: Int32 = 0
                var len = socklen_t(4)
                _ = try checkingErrno { Glibc.getsockopt(raw, SOL_SOCKET, SO_ERROR, &soError, &len) }
                if soError != 0 { throw Errno(rawValue: soError) }
            }
            try fd.setNonBlocking(false)
            try setNoDelay(fd)
        } catch {
            Glibc.close(raw)
            throw error
        }
        return fd
    }

    /// Turns off Nagle's algorithm (`TCP_NODELAY`), so a small response goes out at once
    /// instead of waiting for the peer's delayed ACK (40 ms on Linux).
    public static func setNoDelay(_ fd: FileDescriptor) throws(Errno) {
        try setOption(fd.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
    }

    /// Whether `fd` is a listening TCP socket (IPv4 or IPv6): how a socket-activated server
    /// checks what systemd handed it.
    public static func isListeningTCP(_ fd: FileDescriptor) -> Bool {
        var type: Int32 = 0, accepting: Int32 = 0
        var len = socklen_t(4)
        guard Glibc.getsockopt(fd.rawValue, SOL_SOCKET, SO_TYPE, &type, &len) == 0, type == Int32(SOCK_STREAM.rawValue) else { return false }
        len = 4
        guard Glibc.getsockopt(fd.rawValue, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0, accepting == 1 else { return false }
        return localEndpoint(fd) != nil
    }

    /// The address `fd` is bound to (`getsockname`), or nil if it is not an IPv4/IPv6 socket.
    public static func localEndpoint(_ fd: FileDescriptor) -> TCPEndpoint? {
        name(fd) { Glibc.getsockname($0, $1, $2) }
    }

    /// The address of the peer (`getpeername`), or nil.
    public static func peerEndpoint(_ fd: FileDescriptor) -> TCPEndpoint? {
        name(fd) { Glibc.getpeername($0, $1, $2) }
    }

    private static func name(_ fd: FileDescriptor, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> TCPEndpoint? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd.rawValue, $0, &len) } }
        guard ok == 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            let v4 = withUnsafeBytes(of: storage) { $0.loadUnaligned(as: sockaddr_in.self) }
            var addr = v4.sin_addr
            guard inet_ntop(AF_INET, &addr, &text, socklen_t(text.count)) != nil else { return nil }
            return TCPEndpoint(host: string(text), port: UInt16(bigEndian: v4.sin_port))
        case AF_INET6:
            let v6 = withUnsafeBytes(of: storage) { $0.loadUnaligned(as: sockaddr_in6.self) }
            var addr = v6.sin6_addr
            guard inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count)) != nil else { return nil }
            return TCPEndpoint(host: string(text), port: UInt16(bigEndian: v6.sin6_port))
        default:
            return nil
        }
    }

    private static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
