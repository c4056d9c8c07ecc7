@preconcurrency import Glibc

/// A whole file mapped read-only into memory (`mmap(2)` with `PROT_READ`, `MAP_PRIVATE`).
///
/// Used for model weights (safetensors): the kernel pages them in on demand and shares them
/// between processes, so loading a model costs no copy. `~Copyable` so exactly one owner
/// unmaps it (`munmap(2)` in `deinit`). The bytes stay valid while the owner lives; a file that
/// is truncated by someone else while mapped raises SIGBUS on access — model files are treated
/// as immutable, which is how Hugging Face folders are shipped.
public struct ReadOnlyMapping: ~Copyable, @unchecked Sendable {
    // Invariant: `base` is a live PROT_READ mapping of `count` bytes (or nil when count == 0),
    // never written through, so sharing it between threads is safe.
    private let base: UnsafeRawPointer?
    /// The file's size in bytes at the time it was mapped.
    public let count: Int

    /// Maps the file at `path` (`open(2)`, `fstat(2)`, `mmap(2)`; the descriptor is closed at once).
    public init(path: String) throws(Errno) {
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { try? fd.close() }
        let size = try fd.fileSize()
        guard size > 0 else {
            base = nil
            count = 0
            return
        }
        let p = Glibc.mmap(nil, Int(size), PROT_READ, MAP_PRIVATE, fd.rawValue, 0)
        if p == MAP_FAILED || p == nil { throw Errno.current }
        base = UnsafeRawPointer(p!)
        count = Int(size)
    }

    /// Calls `body` with the mapped bytes (empty for an empty file); the pointer must not escape
    /// beyond the mapping's owner.
    public func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The start of the mapping, for owners that keep typed views into it alive alongside
    /// the mapping (nil for an empty file).
    public var baseAddress: UnsafeRawPointer? { base }

    deinit {
        if let base { _ = Glibc.munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }
}
