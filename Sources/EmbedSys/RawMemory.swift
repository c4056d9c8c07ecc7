@preconcurrency import Glibc

/// libc's byte-string primitives over raw buffers, for the store's payloads and keys (vectorised
/// by glibc; a Swift loop over bytes is several times slower on long payloads).
public enum RawMemory {
    /// The offset of the first byte equal to `byte` in `buffer` (`memchr`), or nil.
    public static func firstIndex(of byte: UInt8, in buffer: UnsafeRawBufferPointer) -> Int? {
        guard let base = buffer.baseAddress, let hit = memchr(base, Int32(byte), buffer.count) else { return nil }
        return UnsafeRawPointer(hit) - base
    }

    /// Unsigned byte order (`memcmp` over the common length, then the shorter first): negative,
    /// zero or positive as `a` sorts before, equal to or after `b`.
    public static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        if n > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }
}
