@preconcurrency import Glibc

/// Thin wrappers around Unix-domain socket calls, on top of `FileDescriptor`.
///
/// All descriptors are created with `SOCK_CLOEXEC`; sends use `MSG_NOSIGNAL` so a peer that
/// went away yields `EPIPE` instead of killing the process with SIGPIPE.
public enum UnixSocket {
    /// Longest path a `sockaddr_un` holds (108 bytes including the terminating NUL).
    public static let maxPathBytes = 107

    /// Builds a `sockaddr_un` for `path`; a leading "@" means the Linux abstract namespace.
    static func address(_ path: String) throws(Errno) -> (sockaddr_un, socklen_t) {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        guard !bytes.isEmpty, bytes.count <= maxPathBytes else { throw Errno(rawValue: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1)
        return (addr, socklen_t(length))
    }

    /// Creates a listening stream socket bound to `path` (`socket`, `bind`, `listen`).
    /// The caller decides what to do about an existing file first (see `probe`).
    ///
    /// - Parameter createMode: the permission bits the socket file is created with, at most
    ///   (the process umask still clears bits). Linux's `bind` gives the new file the socket
    ///   inode's mode, so an `fchmod` before `bind` means the file never exists with wider
    ///   permissions — a `chmod` after `listen` left it open to the umask's bits meanwhile
    ///   (world-writable under umask 000). Callers that need group access widen it with
    ///   `chmod` once the group is set.
    @inline(never)
    public static func listen(path: String, backlog: Int32 = 128, createMode: UInt32 = 0o600) throws(Errno) -> FileDescriptor {
        let fd = try checkingErrno { Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            _ = try checkingErrno { Glibc.fchmod(fd, mode_t(createMode)) }
            var (addr, len) = try address(path)
            _ = try checkingErrno {
                withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, len) } }
            }
            _ = try checkingErrno { Glibc.listen(fd, backlog) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return FileDescriptor(rawValue: fd)
    }

    /// Connects a stream socket to `path` (blocking `connect`).
    @inline(never)
    public static func connect(path: String) throws(Errno) -> FileDescriptor {
        let fd = try checkingErrno { Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            var (addr, len) = try address(path)
            _ = try retryingOnInterrupt {
                withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, len) } }
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return FileDescriptor(rawValue: fd)
    }

    /// What is at a socket path before we bind it.
    public enum PathState: Equatable, Sendable {
        /// Nothing there.
        case absent
        /// A socket file nobody listens on (a previous instance crashed): safe to unlink.
        case stale
        /// A server accepts connections there: never unlink it.
        case live
        /// Something else (a regular file, a directory): refuse to touch it.
        case notASocket
    }

    /// Finds out whether `path` is free, stale or in use, by connecting to it.
    public static func probe(path: String) -> PathState {
        var st = stat()
        guard Glibc.lstat(path, &st) == 0 else { return .absent }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else { return .notASocket }
        do {
            let fd = try connect(path: path)
            try? fd.close()
            return .live
        } catch {
            // ECONNREFUSED: no listener. Anything else (EACCES...) we cannot prove stale.
            return error == .connectionRefused ? .stale : .live
        }
    }

    /// Accepts one connection, non-blocking and close-on-exec (`accept4`).
    /// - Returns: nil when no connection is pending (`EAGAIN`).
    @inline(never)
    public static func accept(_ listener: FileDescriptor) throws(Errno) -> FileDescriptor? {
        while true {
            let fd = LinuxCalls.accept4(listener.rawValue, nil, nil, LinuxCalls.SOCK_CLOEXEC | LinuxCalls.SOCK_NONBLOCK)
            if fd >= 0 { return FileDescriptor(rawValue: fd) }
            let e = Errno.current
            if e == .interrupted || e.rawValue == ECONNABORTED { continue }
            if e == .wouldBlock { return nil }
            throw e
        }
    }

    /// The credentials of the peer process (`getsockopt(SO_PEERCRED)`).
    @inline(never)
    public static func peerCredentials(_ fd: FileDescriptor) throws(Errno) -> PeerCredentials {
        var cred = LinuxCalls.UCred()
        var len = socklen_t(MemoryLayout<LinuxCalls.UCred>.size)
        _ = try checkingErrno { Glibc.getsockopt(fd.rawValue, SOL_SOCKET, SO_PEERCRED, &cred, &len) }
        return PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid)
    }

    /// The supplementary groups of the peer process at `connect` time (`SO_PEERGROUPS`,
    /// Linux ≥ 4.13). Returns nil when the kernel does not support it.
    @inline(never)
    public static func peerGroups(_ fd: FileDescriptor) -> [UInt32]? {
        var groups = [UInt32](repeating: 0, count: 64)
        while true {
            var len = socklen_t(groups.count * 4)
            let rc = groups.withUnsafeMutableBytes { Glibc.getsockopt(fd.rawValue, SOL_SOCKET, LinuxCalls.SO_PEERGROUPS, $0.baseAddress, &len) }
            if rc == 0 { return Array(groups.prefix(Int(len) / 4)) }
            // ERANGE: the buffer was too small; `len` now holds the size needed.
            if errno == ERANGE && Int(len) / 4 > groups.count && groups.count < 65536 {
                groups = [UInt32](repeating: 0, count: Int(len) / 4)
                continue
            }
            return nil
        }
    }

    /// Sends bytes (`send` with `MSG_NOSIGNAL`); returns how many were sent.
    /// - Returns: nil when the socket is non-blocking and its buffer is full (`EAGAIN`).
    @inline(never)
    public static func send(_ fd: FileDescriptor, _ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int? {
        while true {
            let n = Glibc.send(fd.rawValue, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return n }
            let e = Errno.current
            if e == .interrupted { continue }
            if e == .wouldBlock { return nil }
            throw e
        }
    }

    /// Sends all of `bytes` on a blocking socket.
    public static func sendAll(_ fd: FileDescriptor, _ bytes: [UInt8]) throws(Errno) {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(Errno) in
                var done = 0
                while done < raw.count {
                    guard let n = try send(fd, UnsafeRawBufferPointer(rebasing: raw[done...])) else {
                        throw Errno.wouldBlock
                    }
                    done += n
                }
            }
        }.get()
    }

    /// Receives up to `buffer.count` bytes (`recv`); 0 means the peer closed.
    /// - Returns: nil when non-blocking and nothing is available (`EAGAIN`).
    @inline(never)
    public static func receive(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int? {
        while true {
            let n = Glibc.recv(fd.rawValue, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return n }
            let e = Errno.current
            if e == .interrupted { continue }
            if e == .wouldBlock { return nil }
            throw e
        }
    }

    /// Shuts down the write side (`shutdown(SHUT_WR)`), so the peer reads end-of-stream.
    public static func shutdownWrite(_ fd: FileDescriptor) {
        _ = Glibc.shutdown(fd.rawValue, Int32(SHUT_WR))
    }

    /// Whether `fd` is a listening `AF_UNIX` stream socket (`getsockopt`, `getsockname`):
    /// how a socket-activated daemon checks what systemd handed it.
    public static func isListeningUnixStream(_ fd: FileDescriptor) -> Bool {
        var type: Int32 = 0, accepting: Int32 = 0
        var len = socklen_t(4)
        guard Glibc.getsockopt(fd.rawValue, SOL_SOCKET, SO_TYPE, &type, &len) == 0, type == Int32(SOCK_STREAM.rawValue) else { return false }
        len = 4
        guard Glibc.getsockopt(fd.rawValue, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0, accepting == 1 else { return false }
        var addr = sockaddr_storage()
        var alen = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.getsockname(fd.rawValue, $0, &alen) }
        }
        return ok == 0 && addr.ss_family == sa_family_t(AF_UNIX)
    }

    /// The path a Unix socket is bound to (`getsockname`), or nil for unnamed sockets.
    public static func boundPath(_ fd: FileDescriptor) -> String? {
        var addr = sockaddr_un()
        var len = socklen_t(MemoryLayout<sockaddr_un>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.getsockname(fd.rawValue, $0, &len) }
        }
        guard ok == 0 else { return nil }
        let pathLength = Int(len) - MemoryLayout<sa_family_t>.size
        guard pathLength > 0 else { return nil }
        return withUnsafeBytes(of: &addr.sun_path) { raw -> String in
            if raw[0] == 0 { return "@" + String(decoding: raw[1..<pathLength], as: UTF8.self) }
            let end = raw[..<pathLength].firstIndex(of: 0) ?? pathLength
            return String(decoding: raw[..<end], as: UTF8.self)
        }
    }

    /// A connected pair of stream sockets (`socketpair`), for tests and in-process links.
    public static func pair() throws(Errno) -> (FileDescriptor, FileDescriptor) {
        var fds: [Int32] = [0, 0]
        _ = try checkingErrno { Glibc.socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// Sends one datagram to the socket at `path` (abstract if it starts with "@"), from a fresh
    /// unbound `SOCK_DGRAM` socket: what `sd_notify` does.
    @inline(never)
    public static func sendDatagram(_ bytes: [UInt8], to path: String) throws(Errno) {
        let fd = try checkingErrno { Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        defer { Glibc.close(fd) }
        var (addr, len) = try address(path)
        _ = try retryingOnInterrupt {
            bytes.withUnsafeBytes { raw in
                withUnsafePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.sendto(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL), $0, len)
                    }
                }
            }
        }
    }

    /// Creates a datagram socket bound to `path` (for tests that play systemd's notify socket).
    @inline(never)
    public static func bindDatagram(path: String) throws(Errno) -> FileDescriptor {
        let fd = try checkingErrno { Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        do {
            var (addr, len) = try address(path)
            _ = try checkingErrno {
                withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, len) } }
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return FileDescriptor(rawValue: fd)
    }

    /// Sets the receive timeout (`SO_RCVTIMEO`), so blocking reads give up with `EAGAIN`.
    public static func setReceiveTimeout(_ fd: FileDescriptor, seconds: Double) throws(Errno) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        _ = try checkingErrno { Glibc.setsockopt(fd.rawValue, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) }
    }

    /// `setsockopt(SO_SNDTIMEO)`: a send that cannot progress for `seconds` fails with EAGAIN.
    public static func setSendTimeout(_ fd: FileDescriptor, seconds: Double) throws(Errno) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        _ = try checkingErrno { Glibc.setsockopt(fd.rawValue, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) }
    }
}
