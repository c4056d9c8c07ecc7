/// A 64-byte-aligned activation buffer that grows on demand (its contents are not kept when it
/// grows). For layers whose element type depends on the precision (fp32 or bf16 rows), so the
/// bytes are untyped; callers bind them per call.
final class ScratchBuffer {
    // Invariant: touched only by the owning model's compute thread; `pointer` holds `byteCount`
    // bytes, replaced only by `reserve`.
    private(set) var pointer: UnsafeMutableRawPointer
    private(set) var byteCount: Int

    init() {
        byteCount = 64
        pointer = .allocate(byteCount: 64, alignment: 64)
    }

    /// At least `bytes` bytes (zero-filled when newly allocated).
    func reserve(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > byteCount {
            pointer.deallocate()
            byteCount = (bytes + 63) / 64 * 64
            pointer = .allocate(byteCount: byteCount, alignment: 64)
            pointer.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        }
        return pointer
    }

    deinit { pointer.deallocate() }
}
