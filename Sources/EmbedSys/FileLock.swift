@preconcurrency import Glibc

/// An exclusive advisory lock on a file (`fcntl(F_OFD_SETLK)`, whole file), held until `deinit`.
///
/// Why: two processes writing one collection would interleave their logs; the second open
/// must fail with a clear error instead. The kernel drops the lock when the process dies,
/// so a `kill -9` never leaves a stale lock behind.
public final class FileLock: Sendable {
    /// The lock file's path.
    public let path: String
    private let descriptor: FileDescriptor

    /// Creates `path` if needed and locks it without waiting.
    /// - Throws: `Errno.wouldBlock` (or `EACCES`) when another descriptor (or process) holds it, or the
    ///   `Errno` of `open`/`flock`.
    public init(path: String) throws(Errno) {
        self.path = path
        let fd = try FileDescriptor.open(path, [.readWrite, .create], permissions: 0o644)
        // An open-file-description lock (F_OFD_SETLK): owned by this descriptor, so a second
        // open in the same process conflicts too, unlike a classic POSIX record lock.
        var request = Glibc.flock()
        request.l_type = Int16(F_WRLCK)
        request.l_whence = Int16(SEEK_SET)
        if Glibc.fcntl(fd.rawValue, FileLock.setOFDLock, &request) != 0 {
            let error = Errno.current
            try? fd.close()
            throw error
        }
        descriptor = fd
    }

    /// `F_OFD_SETLK` from <fcntl.h> (Linux ≥ 3.15); Swift does not import it.
    private static let setOFDLock: Int32 = 37

    /// Unlocks explicitly before closing: closing alone releases an OFD lock only when every
    /// copy of the descriptor is closed, and a child forked by another thread holds a copy
    /// until its `exec` closes it (`O_CLOEXEC`), so a reopen right after would spuriously fail.
    deinit {
        var request = Glibc.flock()
        request.l_type = Int16(F_UNLCK)
        request.l_whence = Int16(SEEK_SET)
        _ = Glibc.fcntl(descriptor.rawValue, FileLock.setOFDLock, &request)
        try? descriptor.close()
    }
}
