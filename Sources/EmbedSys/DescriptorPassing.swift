@preconcurrency import Glibc

/// Sending and receiving open file descriptors along with stream bytes (`SCM_RIGHTS`), the way
/// embedd's protocol carries them: the descriptors ride on the `sendmsg` that sends the first
/// bytes of a frame, and the receiver collects them with every `recvmsg`.
///
/// Linux delivers the descriptors of one `sendmsg` together, with the read that returns its
/// first byte, and ends that read there; so each receive returns at most one such batch and
/// batches arrive in stream order.
public enum DescriptorPassing {
    /// The kernel's per-message limit (`SCM_MAX_FD`).
    public static let maxDescriptorsPerMessage = 253

    /// What one `receive` returned.
    public struct Received: Sendable {
        /// Bytes read: nil when non-blocking and nothing is there (`EAGAIN`); 0 at end of stream.
        public var count: Int?
        /// Descriptors that arrived with these bytes (close-on-exec); the caller owns them.
        public var descriptors: [FileDescriptor]
        /// True when the kernel dropped descriptors for lack of room (`MSG_CTRUNC`).
        public var truncated: Bool
    }

    /// Sends `bytes` with `descriptors` attached to the first byte (`sendmsg` with `SCM_RIGHTS`
    /// and `MSG_NOSIGNAL`), then the rest with plain sends, on a blocking socket.
    @inline(never)
    public static func sendAll(_ socket: FileDescriptor, _ bytes: [UInt8], descriptors: [FileDescriptor]) throws(Errno) {
        guard !descriptors.isEmpty else { return try UnixSocket.sendAll(socket, bytes) }
        guard descriptors.count <= maxDescriptorsPerMessage, !bytes.isEmpty else { throw Errno.invalidArgument }
        let payloadLength = descriptors.count * MemoryLayout<Int32>.size
        let space = cmsgSpace(payloadLength)
        let control = UnsafeMutableRawPointer.allocate(byteCount: space, alignment: MemoryLayout<cmsghdr>.alignment)
        defer { control.deallocate() }
        control.initializeMemory(as: UInt8.self, repeating: 0, count: space)
        let header = control.assumingMemoryBound(to: cmsghdr.self)
        header.pointee.cmsg_len = cmsgLength(payloadLength)
        header.pointee.cmsg_level = SOL_SOCKET
        header.pointee.cmsg_type = Int32(SCM_RIGHTS)
        let data = control + cmsgLength(0)
        for (i, d) in descriptors.enumerated() { data.storeBytes(of: d.rawValue, toByteOffset: i * 4, as: Int32.self) }
        var copy = bytes
        let result: Int = copy.withUnsafeMutableBytes { raw in
            var iov = iovec(iov_base: raw.baseAddress, iov_len: raw.count)
            return withUnsafeMutablePointer(to: &iov) { iovp in
                var msg = msghdr()
                msg.msg_iov = iovp
                msg.msg_iovlen = 1
                msg.msg_control = control
                msg.msg_controllen = space
                while true {
                    let r = Glibc.sendmsg(socket.rawValue, &msg, Int32(MSG_NOSIGNAL))
                    if r >= 0 || Errno.current != .interrupted { return r }
                }
            }
        }
        if result < 0 { throw Errno.current }
        let sent = result
        if sent < bytes.count { try UnixSocket.sendAll(socket, Array(bytes[sent...])) }
    }

    /// Receives up to `buffer.count` bytes and any descriptors that came with them
    /// (`recvmsg` with `MSG_CMSG_CLOEXEC`, room for `maxDescriptorsPerMessage`).
    @inline(never)
    public static func receive(_ socket: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Received {
        let space = cmsgSpace(maxDescriptorsPerMessage * MemoryLayout<Int32>.size)
        let control = UnsafeMutableRawPointer.allocate(byteCount: space, alignment: MemoryLayout<cmsghdr>.alignment)
        defer { control.deallocate() }
        var iov = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
        var msg = msghdr()
        let n: Int = withUnsafeMutablePointer(to: &iov) { iovp in
            msg.msg_iov = iovp
            msg.msg_iovlen = 1
            msg.msg_control = control
            msg.msg_controllen = space
            while true {
                let r = Glibc.recvmsg(socket.rawValue, &msg, Int32(MSG_CMSG_CLOEXEC))
                if r >= 0 || Errno.current != .interrupted { return r }
            }
        }
        if n < 0 {
            let e = Errno.current
            if e == .wouldBlock { return Received(count: nil, descriptors: [], truncated: false) }
            throw e
        }
        var fds: [FileDescriptor] = []
        var offset = 0
        // Walk every control message (CMSG_FIRSTHDR / CMSG_NXTHDR).
        while offset + cmsgLength(0) <= Int(msg.msg_controllen) {
            let h = (control + offset).assumingMemoryBound(to: cmsghdr.self)
            let length = Int(h.pointee.cmsg_len)
            guard length >= cmsgLength(0), offset + length <= Int(msg.msg_controllen) else { break }
            if h.pointee.cmsg_level == SOL_SOCKET && h.pointee.cmsg_type == Int32(SCM_RIGHTS) {
                let count = (length - cmsgLength(0)) / 4
                let data = control + offset + cmsgLength(0)
                for i in 0..<count { fds.append(FileDescriptor(rawValue: data.load(fromByteOffset: i * 4, as: Int32.self))) }
            }
            offset += cmsgAlign(length)
        }
        return Received(count: n, descriptors: fds, truncated: msg.msg_flags & Int32(MSG_CTRUNC) != 0)
    }

    /// The size of `fd` if it is a regular file (`fstat`), nil for anything else (a pipe, a
    /// socket, a directory, a device): only regular files have a size that bounds a read.
    public static func regularFileSize(_ fd: FileDescriptor) throws(Errno) -> Int64? {
        var st = stat()
        _ = try retryingOnInterrupt { Glibc.fstat(fd.rawValue, &st) }
        return (st.st_mode & S_IFMT) == S_IFREG ? Int64(st.st_size) : nil
    }

    // CMSG_* are macros; these are their definitions for 64-bit Linux (8-byte alignment).
    private static func cmsgAlign(_ n: Int) -> Int { (n + 7) & ~7 }
    private static func cmsgLength(_ n: Int) -> Int { cmsgAlign(MemoryLayout<cmsghdr>.size) + n }
    private static func cmsgSpace(_ n: Int) -> Int { cmsgAlign(MemoryLayout<cmsghdr>.size) + cmsgAlign(n) }
}
