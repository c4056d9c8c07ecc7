/// The arithmetic a model's matrix multiplications use.
public enum Precision: String, Sendable {
    /// IEEE single precision everywhere (`TextEmbedder.Options`' default; matches PyTorch to ~1e-6).
    case fp32
    /// bfloat16 inputs and weights with fp32 accumulation, on CPUs with AMX or AVX-512 BF16;
    /// everything outside the matmuls stays fp32.
    case bf16

    /// What `auto` means on this CPU: bf16 where the CPU computes it natively (AMX or AVX-512
    /// BF16: faster, with vectors at cosine ≥ 0.9999 to fp32; docs/text-plugin.md), fp32 elsewhere. OpenVINO's CPU
    /// plugin makes the same choice by default.
    public static var automatic: Precision { DNNL.hasNativeBF16 ? .bf16 : .fp32 }

    /// The precision actually usable on this CPU for a requested one: bf16 falls back to fp32
    /// when the CPU lacks native bf16 (checked once at model start-up).
    public static func effective(_ requested: Precision) -> Precision {
        requested == .bf16 && DNNL.hasNativeBF16 ? .bf16 : .fp32
    }

    /// A one-line description of the CPU's matmul capability, for logs and model info.
    public static var cpuDescription: String {
        DNNL.hasAMX ? "AMX bf16" : DNNL.hasNativeBF16 ? "AVX-512 BF16" : "AVX-512/AVX2 fp32 only"
    }
}
