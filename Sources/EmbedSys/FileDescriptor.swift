@preconcurrency import Glibc

/// A raw file descriptor with thin, EINTR-safe wrappers around the calls made on it.
///
/// Like swift-system's `FileDescriptor` this is a *value* that does not own the descriptor:
/// call `close()` exactly once. Types that hold descriptors close them in their `deinit`
/// (`PassedDescriptors`, the write-ahead log, mappings).
public struct FileDescriptor: RawRepresentable, Hashable, Sendable {
    /// The kernel's descriptor number.
    public let rawValue: Int32
    /// Wraps an existing descriptor number.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let standardInput = FileDescriptor(rawValue: 0)
    public static let standardOutput = FileDescriptor(rawValue: 1)
    public static let standardError = FileDescriptor(rawValue: 2)

    /// Flags for `open(_:_:permissions:)`, the `O_*` constants.
    public struct OpenOptions: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let readOnly = OpenOptions([])
        public static let writeOnly = OpenOptions(rawValue: O_WRONLY)
        public static let readWrite = OpenOptions(rawValue: O_RDWR)
        public static let create = OpenOptions(rawValue: O_CREAT)
        public static let exclusive = OpenOptions(rawValue: O_EXCL)
        public static let truncate = OpenOptions(rawValue: O_TRUNC)
        public static let append = OpenOptions(rawValue: O_APPEND)
        public static let directory = OpenOptions(rawValue: O_DIRECTORY)
        public static let noFollow = OpenOptions(rawValue: O_NOFOLLOW)
        public static let nonBlocking = OpenOptions(rawValue: O_NONBLOCK)
    }

    /// Opens `path` (`open(2)` with `O_CLOEXEC` always added).
    @inline(never)
    public static func open(_ path: String, _ options: OpenOptions, permissions: UInt32 = 0o644) throws(Errno) -> FileDescriptor {
        let fd = try retryingOnInterrupt { Glibc.open(path, options.rawValue | O_CLOEXEC, permissions) }
        return FileDescriptor(rawValue: fd)
    }

    /// Closes the descriptor (`close(2)`); not retried on EINTR, as Linux always frees it.
    @inline(never)
    public func close() throws(Errno) {
        _ = try checkingErrno { Glibc.close(rawValue) }
    }

    /// Reads up to `buffer.count` bytes (`read(2)`); returns 0 at end of file.
    @inline(never)
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try retryingOnInterrupt { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Reads up to `buffer.count` bytes at `offset` without moving the file position (`pread(2)`).
    @inline(never)
    public func read(fromAbsoluteOffset offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try retryingOnInterrupt { Glibc.pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Writes up to `buffer.count` bytes (`write(2)`); returns how many were written.
    @inline(never)
    public func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try retryingOnInterrupt { Glibc.write(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Writes up to `buffer.count` bytes at `offset` (`pwrite(2)`).
    @inline(never)
    public func write(toAbsoluteOffset offset: Int64, _ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try retryingOnInterrupt { Glibc.pwrite(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Writes all of `buffer`, looping over short writes.
    public func writeAll(_ buffer: UnsafeRawBufferPointer) throws(Errno) {
        var done = 0
        while done < buffer.count {
            done += try write(UnsafeRawBufferPointer(rebasing: buffer[done...]))
        }
    }

    /// Writes all of `bytes`, looping over short writes.
    public func writeAll(_ bytes: [UInt8]) throws(Errno) {
        try bytes.withUnsafeBytes { raw in Result { () throws(Errno) in try writeAll(raw) } }.get()
    }

    /// Writes all of `buffer` at `offset`, looping over short writes.
    public func writeAll(toAbsoluteOffset offset: Int64, _ buffer: UnsafeRawBufferPointer) throws(Errno) {
        var done = 0
        while done < buffer.count {
            done += try write(toAbsoluteOffset: offset + Int64(done), UnsafeRawBufferPointer(rebasing: buffer[done...]))
        }
    }

    /// Reads until end of file or `limit` bytes, whichever comes first.
    public func readAll(limit: Int = Int.max) throws(Errno) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while result.count < limit {
            let want = min(chunk.count, limit - result.count)
            let n = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(Errno) in try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[..<want])) }
            }.get()
            if n == 0 { break }
            result.append(contentsOf: chunk[..<n])
        }
        return result
    }

    /// Flushes data and metadata to stable storage (`fsync(2)`).
    @inline(never)
    public func sync() throws(Errno) { _ = try retryingOnInterrupt { Glibc.fsync(rawValue) } }

    /// Flushes data (and the metadata needed to read it back) to stable storage (`fdatasync(2)`).
    @inline(never)
    public func dataSync() throws(Errno) { _ = try retryingOnInterrupt { Glibc.fdatasync(rawValue) } }

    /// Sets the file's size (`ftruncate(2)`).
    @inline(never)
    public func resize(to size: Int64) throws(Errno) {
        _ = try retryingOnInterrupt { Glibc.ftruncate(rawValue, off_t(size)) }
    }

    /// The file's size in bytes (`fstat(2)`).
    @inline(never)
    public func fileSize() throws(Errno) -> Int64 {
        var st = stat()
        _ = try retryingOnInterrupt { Glibc.fstat(rawValue, &st) }
        return Int64(st.st_size)
    }

    /// Moves the file position (`lseek(2)`) and returns the new absolute offset.
    @inline(never)
    public func seek(to offset: Int64, whence: Int32 = SEEK_SET) throws(Errno) -> Int64 {
        Int64(try retryingOnInterrupt { Glibc.lseek(rawValue, off_t(offset), whence) })
    }

    /// Sets `FD_CLOEXEC` (`fcntl(2)`): inherited descriptors (socket activation) are not passed
    /// on to programs this process starts.
    public func setCloseOnExec() throws(Errno) {
        let flags = try retryingOnInterrupt { fcntl_getfd(rawValue) }
        _ = try retryingOnInterrupt { fcntl_setfd(rawValue, flags | FD_CLOEXEC) }
    }

    /// A second descriptor for the same open file (`F_DUPFD_CLOEXEC`), which the caller owns:
    /// a plugin's input that must outlive the descriptor it was made from.
    public func duplicate() throws(Errno) -> FileDescriptor {
        FileDescriptor(rawValue: try retryingOnInterrupt { fcntl_dupfd(rawValue) })
    }

    /// Sets or clears `O_NONBLOCK` (`fcntl(2)`).
    @inline(never)
    public func setNonBlocking(_ on: Bool) throws(Errno) {
        let flags = try retryingOnInterrupt { fcntl_getfl(rawValue) }
        let updated = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        _ = try retryingOnInterrupt { fcntl_setfl(rawValue, updated) }
    }
}

// `fcntl` is variadic in C and not imported directly; these call it with fixed arguments.
private func fcntl_getfl(_ fd: Int32) -> Int32 { Glibc.fcntl(fd, F_GETFL) }
private func fcntl_setfl(_ fd: Int32, _ flags: Int32) -> Int32 { Glibc.fcntl(fd, F_SETFL, flags) }
private func fcntl_getfd(_ fd: Int32) -> Int32 { Glibc.fcntl(fd, F_GETFD) }
private func fcntl_setfd(_ fd: Int32, _ flags: Int32) -> Int32 { Glibc.fcntl(fd, F_SETFD, flags) }
private func fcntl_dupfd(_ fd: Int32) -> Int32 { Glibc.fcntl(fd, F_DUPFD_CLOEXEC, 3) }

/// Process-wide file-system calls that take paths.
public enum FileSystem {
    /// Renames atomically (`rename(2)`).
    @inline(never)
    public static func rename(_ from: String, to: String) throws(Errno) {
        _ = try checkingErrno { Glibc.rename(from, to) }
    }
    /// Removes a file (`unlink(2)`).
    @inline(never)
    public static func unlink(_ path: String) throws(Errno) {
        _ = try checkingErrno { Glibc.unlink(path) }
    }
    /// Creates a directory (`mkdir(2)`); succeeds quietly if `existOK` and it already exists.
    @inline(never)
    public static func makeDirectory(_ path: String, permissions: UInt32 = 0o755, existOK: Bool = true) throws(Errno) {
        if Glibc.mkdir(path, permissions) == 0 { return }
        let error = Errno.current
        if existOK && error == .fileExists && isDirectory(path) { return }
        throw error
    }
    /// Creates a directory and its missing parents, like `mkdir -p`.
    public static func makeDirectories(_ path: String, permissions: UInt32 = 0o755) throws(Errno) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            try makeDirectory(prefix, permissions: permissions, existOK: true)
            prefix += "/"
        }
    }
    /// Removes an empty directory (`rmdir(2)`).
    @inline(never)
    public static func removeDirectory(_ path: String) throws(Errno) {
        _ = try checkingErrno { Glibc.rmdir(path) }
    }
    /// Whether `path` exists (`access(F_OK)`; follows symlinks).
    public static func exists(_ path: String) -> Bool { Glibc.access(path, F_OK) == 0 }
    /// Whether `path` is a directory (`stat(2)`).
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return Glibc.fstatat(AT_FDCWD, path, &st, 0) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
    /// Whether `path` is a regular file (`stat(2)`).
    public static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return Glibc.fstatat(AT_FDCWD, path, &st, 0) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }
    /// The names in a directory, without "." and "..", sorted (`opendir`/`readdir`).
    @inline(never)
    public static func contentsOfDirectory(_ path: String) throws(Errno) -> [String] {
        guard let dir = Glibc.opendir(path) else { throw Errno.current }
        defer { Glibc.closedir(dir) }
        var names: [String] = []
        while let entry = Glibc.readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
    /// fsyncs a directory, making renames and creations inside it durable.
    public static func syncDirectory(_ path: String) throws(Errno) {
        let fd = try FileDescriptor.open(path, [.readOnly, .directory])
        defer { try? fd.close() }
        try fd.sync()
    }
    /// Replaces the file at `path` with `bytes` so that a crash leaves the old or the new
    /// content, never a mix: written to `temporary` (created with `permissions`), fsync'd,
    /// renamed over `path`, then the directory `directory` is fsync'd. The temporary file is
    /// removed when a step fails.
    public static func replaceFile(_ path: String, with bytes: [UInt8], temporary: String, directory: String,
                                   permissions: UInt32 = 0o640) throws(Errno) {
        let fd = try FileDescriptor.open(temporary, [.writeOnly, .create, .truncate], permissions: permissions)
        do {
            try fd.writeAll(bytes)
            try fd.sync()
            try fd.close()
        } catch {
            try? fd.close()
            try? unlink(temporary)
            throw error
        }
        do { try rename(temporary, to: path) } catch {
            try? unlink(temporary)
            throw error
        }
        try syncDirectory(directory)
    }
    /// Reads a whole file (up to `limit` bytes).
    public static func readFile(_ path: String, limit: Int = Int.max) throws(Errno) -> [UInt8] {
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { try? fd.close() }
        return try fd.readAll(limit: limit)
    }
    /// Resolves a path to an absolute, symlink-free one (`realpath(3)`).
    public static func realPath(_ path: String) throws(Errno) -> String {
        guard let p = Glibc.realpath(path, nil) else { throw Errno.current }
        defer { free(p) }
        return String(cString: p)
    }
}

extension FileSystem {
    /// Copies a regular file's bytes to `destination` (created or truncated, mode `permissions`),
    /// fsyncing the copy.
    public static func copyFile(from source: String, to destination: String, permissions: UInt32 = 0o755) throws(Errno) {
        let input = try FileDescriptor.open(source, .readOnly)
        defer { try? input.close() }
        let output = try FileDescriptor.open(destination, [.writeOnly, .create, .truncate], permissions: permissions)
        defer { try? output.close() }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(Errno) in try input.read(into: raw) }
            }.get()
            if n == 0 { break }
            try chunk.withUnsafeBytes { raw in
                Result { () throws(Errno) in try output.writeAll(UnsafeRawBufferPointer(rebasing: raw[..<n])) }
            }.get()
        }
        try output.sync()
    }

    /// Identity of a file as the kernel sees it: device, inode, size and modification time.
    public struct FileIdentity: Hashable, Sendable {
        public let device: UInt64, inode: UInt64, size: Int64, modifiedNanoseconds: Int64
    }

    /// The file's identity (`stat(2)`, following symlinks).
    public static func identity(of path: String) throws(Errno) -> FileIdentity {
        var st = stat()
        _ = try checkingErrno { Glibc.fstatat(AT_FDCWD, path, &st, 0) }
        return FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size),
                            modifiedNanoseconds: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
    }

    /// Creates a fresh private directory from a template ending in "XXXXXX" (`mkdtemp(3)`).
    public static func makeTemporaryDirectory(template: String) throws(Errno) -> String {
        var bytes = Array(template.utf8CString)
        let ok = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
        guard ok else { throw Errno.current }
        return bytes.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
