/// Read-only fp32 data with an owner: either a zero-copy view into a mapped safetensors file
/// (which it keeps alive) or a buffer it allocated (widened from f16/bf16, or unaligned data).
public final class FloatStorage: @unchecked Sendable {
    // Invariant: `pointer` stays valid and unmodified for this object's lifetime: it points into
    // `owner`'s read-only mapping, or into `allocated`, which only deinit frees.
    /// First element.
    public let pointer: UnsafePointer<Float>
    /// Number of elements.
    public let count: Int
    /// Dimensions, outermost first.
    public let shape: [Int]
    private let owner: AnyObject?
    private let allocated: UnsafeMutableBufferPointer<Float>?

    init(view pointer: UnsafePointer<Float>, count: Int, shape: [Int], owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.shape = shape
        self.owner = owner
        self.allocated = nil
    }

    /// Takes ownership of a freshly allocated buffer (freed in deinit).
    init(adopting buffer: UnsafeMutableBufferPointer<Float>, shape: [Int]) {
        self.pointer = UnsafePointer(buffer.baseAddress!)
        self.count = buffer.count
        self.shape = shape
        self.owner = nil
        self.allocated = buffer
    }

    /// Copies `values` into new storage.
    public convenience init(copying values: [Float], shape: [Int]) {
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(values.count, 1))
        _ = buffer.initialize(from: values)
        self.init(adopting: UnsafeMutableBufferPointer(rebasing: buffer[0..<values.count]), shape: shape)
    }

    /// The elements as a buffer.
    public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: pointer, count: count) }

    /// A copy of the elements (the `buffer` pointer is only valid while this object lives).
    public var values: [Float] { withExtendedLifetime(self) { Array(buffer) } }

    /// Row `i` of a 2-D tensor.
    public func row(_ i: Int) -> UnsafePointer<Float> { pointer + i * shape[shape.count - 1] }

    deinit {
        if let allocated {
            // Rebased buffers share the base address of the original allocation.
            allocated.baseAddress!.deallocate()
        }
    }
}
