@preconcurrency import Glibc

extension FileSystem {
    /// A file's permission bits, owner and group (`stat`, following symlinks).
    public struct Ownership: Sendable, Equatable {
        /// The permission bits (`st_mode & 0o7777`).
        public var mode: UInt32
        public var uid: UInt32
        public var gid: UInt32
    }

    /// The permission bits, owner and group of `path`; what embedd-http copies from the
    /// daemon's socket onto its own Unix listener.
    public static func ownership(of path: String) throws(Errno) -> Ownership {
        var st = stat()
        _ = try checkingErrno { Glibc.fstatat(AT_FDCWD, path, &st, 0) }
        return Ownership(mode: UInt32(st.st_mode) & 0o7777, uid: st.st_uid, gid: st.st_gid)
    }
}
