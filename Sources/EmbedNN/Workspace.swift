/// Activation buffers reused across calls, grown on demand (one per model; compute thread only).
final class Workspace {
    // Invariant: touched only by the owning model's compute thread.
    private(set) var capacityRows = 0
    private(set) var hidden: UnsafeMutablePointer<Float>
    private(set) var qkv: UnsafeMutablePointer<Float>
    private(set) var context: UnsafeMutablePointer<Float>
    private(set) var intermediate: UnsafeMutableRawPointer
    private(set) var half: UnsafeMutablePointer<UInt16>
    private(set) var scratch: UnsafeMutablePointer<Float>
    private var scratchCount = 0
    let hiddenSize: Int
    let intermediateSize: Int

    init(hiddenSize: Int, intermediateSize: Int) {
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        hidden = .allocate(capacity: 1)
        qkv = .allocate(capacity: 1)
        context = .allocate(capacity: 1)
        intermediate = .allocate(byteCount: 4, alignment: 64)
        half = .allocate(capacity: 1)
        scratch = .allocate(capacity: 1)
    }

    /// Ensures room for `rows` (already bucketed) token rows, zero-filled so padding rows hold
    /// finite values, and `scratch` floats of attention scratch.
    func reserve(rows: Int, scratch count: Int) {
        if rows > capacityRows {
            free()
            let r = max(rows, capacityRows * 3 / 2)
            hidden = Self.zeroed(r * hiddenSize)
            qkv = Self.zeroed(r * 3 * hiddenSize)
            context = Self.zeroed(r * hiddenSize)
            intermediate = UnsafeMutableRawPointer(Self.zeroed(r * intermediateSize))
            let h = UnsafeMutablePointer<UInt16>.allocate(capacity: r * max(hiddenSize, intermediateSize))
            h.initialize(repeating: 0, count: r * max(hiddenSize, intermediateSize))
            half = h
            capacityRows = r
        }
        if count > scratchCount {
            scratch.deallocate()
            scratch = Self.zeroed(count)
            scratchCount = count
        }
    }

    private static func zeroed(_ n: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(n, 16) * 4, alignment: 64)
        let p = raw.bindMemory(to: Float.self, capacity: max(n, 16))
        p.initialize(repeating: 0, count: max(n, 16))
        return p
    }

    private func free() {
        hidden.deallocate(); qkv.deallocate(); context.deallocate()
        intermediate.deallocate(); half.deallocate()
    }

    deinit {
        free()
        scratch.deallocate()
    }
}
