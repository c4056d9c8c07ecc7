/// One tensor's entry in a safetensors header, already validated against the file.
public struct TensorInfo: Sendable, Equatable {
    /// The tensor's name in the file ("encoder.layer.0.attention.self.query.weight").
    public let name: String
    /// Element type.
    public let dtype: TensorDType
    /// Dimensions, outermost first (row-major).
    public let shape: [Int]
    /// Byte range of the data, relative to the start of the data section.
    public let byteRange: Range<Int>

    /// Number of elements (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}
