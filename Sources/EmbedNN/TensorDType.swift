/// Element types a safetensors file may hold, with their sizes. EmbedNN computes in fp32 (and
/// bf16 inside matmuls); f16/bf16 weights are widened to fp32 at load.
public enum TensorDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    /// Whether EmbedNN can read this type as floating-point weights.
    public var isFloat: Bool { self == .f32 || self == .f16 || self == .bf16 }
}
