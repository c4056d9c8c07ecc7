/// The activation buffers network plans run in, grown on demand and shared by every plan of a
/// model (one model runs one plan at a time), so caching many plans costs no activation memory.
final class PlanBuffers {
    // Invariant: touched only by the owning model's compute thread; a plan binds its steps to
    // the current addresses before every run, so growing (reallocating) here is safe.
    private var storage: [UnsafeMutableRawPointer] = []
    private var capacity: [Int] = []

    /// Ensures buffer `i` has at least `bytes[i]` bytes (64-byte aligned, contents undefined).
    func reserve(_ bytes: [Int]) {
        while storage.count < bytes.count {
            storage.append(.allocate(byteCount: 64, alignment: 64))
            capacity.append(64)
        }
        for (i, n) in bytes.enumerated() where n > capacity[i] {
            storage[i].deallocate()
            storage[i] = .allocate(byteCount: n, alignment: 64)
            capacity[i] = n
        }
    }

    /// Buffer `i` (after `reserve`).
    subscript(i: Int) -> UnsafeMutableRawPointer { storage[i] }

    /// Bytes held.
    var byteCount: Int { capacity.reduce(0, +) }

    deinit { for p in storage { p.deallocate() } }
}
