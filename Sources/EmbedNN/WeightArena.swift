import EmbedSys

/// Memory for one model's packed weights, carved from a few huge-page mappings.
///
/// Each matmul streams its packed weights once per forward pass; in 2 MiB pages a small
/// encoder's weights take a few dozen TLB entries instead of thousands (bench/NOTES.md,
/// stop 14).
/// Matrices are packed back to back in 16 MiB chunks (a larger matrix gets a chunk of its own),
/// so the rounding to huge pages costs at most the untouched tail of the last chunk.
final class WeightArena: @unchecked Sendable {
    // Invariant: `allocate` runs on the model's compute thread only: while the model loads, or
    // in the call that first needs oneDNN's copy of a Linear packed for small row counts (calls
    // are serialised). The memory handed out is written once, then only read through the
    // pointers, which live as long as the arena (its owner, the model's ComputeContext,
    // outlives every Linear).
    private var chunks: [HugePageMemory] = []
    private var used = 0
    static let chunkBytes = 16 << 20

    /// `bytes` of zeroed memory, 64-byte aligned (oneDNN's preferred alignment).
    func allocate(_ bytes: Int) throws(NNError) -> UnsafeMutableRawPointer {
        let size = max(64, (bytes + 63) / 64 * 64)
        if let last = chunks.last, used + size <= last.byteCount {
            defer { used += size }
            return last.base + used
        }
        do {
            let chunk = try HugePageMemory(byteCount: max(size, Self.chunkBytes))
            chunks.append(chunk)
            used = size
            return chunk.base
        } catch {
            throw NNError("cannot map \(max(size, Self.chunkBytes)) bytes for packed weights: \(error)")
        }
    }

    /// Bytes mapped so far.
    var mappedBytes: Int { chunks.reduce(0) { $0 + $1.byteCount } }
}
