@preconcurrency import Glibc

/// Zeroed, private anonymous memory aligned to 2 MiB, rounded up to 2 MiB and advised for
/// transparent huge pages (`madvise(MADV_HUGEPAGE)`).
///
/// Why: a model's packed weights are streamed through once per forward pass. In 4 KiB pages the
/// ~21–42 MB of a small encoder take 5–10 thousand TLB entries — far more than a core has —
/// so every pass also walks page tables (two-dimensional walks inside a VM); in 2 MiB pages
/// they take a few dozen. Where THP is off (`never`) the advice is ignored and the memory is
/// ordinary 4 KiB pages.
///
/// Invariant: `base` stays mapped, readable and writable for `byteCount` bytes until `deinit`.
/// The owner guarantees no pointer into it outlives the object (hence `@unchecked Sendable`).
public final class HugePageMemory: @unchecked Sendable {
    /// The huge page size this type aligns to (x86-64's PMD size).
    public static let hugePageSize = 2 << 20
    /// First byte (2 MiB aligned).
    public let base: UnsafeMutableRawPointer
    /// Usable bytes (the request rounded up to 2 MiB).
    public let byteCount: Int

    /// Maps `byteCount` bytes (at least one byte).
    /// - Throws: `Errno` from `mmap`, `.invalidArgument` for a size below 1.
    public init(byteCount requested: Int) throws(Errno) {
        guard requested > 0 else { throw Errno.invalidArgument }
        let huge = Self.hugePageSize
        let size = (requested + huge - 1) / huge * huge
        // Over-map by one huge page, then trim both ends to a 2 MiB-aligned range.
        guard let raw = Glibc.mmap(nil, size + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              raw != MAP_FAILED else { throw Errno.current }
        let start = UInt(bitPattern: raw)
        let aligned = (start + UInt(huge) - 1) & ~UInt(huge - 1)
        let head = Int(aligned - start)
        if head > 0 { Glibc.munmap(raw, head) }
        let tail = huge - head
        if tail > 0 { Glibc.munmap(UnsafeMutableRawPointer(bitPattern: aligned + UInt(size))!, tail) }
        base = UnsafeMutableRawPointer(bitPattern: aligned)!
        byteCount = size
        _ = Glibc.madvise(base, size, MADV_HUGEPAGE)
    }

    deinit { Glibc.munmap(base, byteCount) }
}
