import EmbedSys

/// A resampling filter of Pillow's `Image.resize`, numbered as `PIL.Image.Resampling` (and so as
/// the `resample` field of a `preprocessor_config.json`).
///
/// The kernels are Pillow's `src/libImaging/Resample.c`, operation for operation (no fused
/// multiply-add, the same libm `sin`/`cos`, the same single-precision constants), because a
/// weight that differs in its last bit can move a fixed-point sum across a rounding boundary.
public enum ResamplingFilter: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// Nearest neighbour: Pillow's affine scale path, not the separable filter.
    case nearest = 0
    /// Lanczos, a = 3 (truncated sinc windowed by sinc).
    case lanczos = 1
    /// Triangle (linear) filter.
    case bilinear = 2
    /// Keys' cubic convolution with a = -0.5.
    case bicubic = 3
    /// Box filter: each output pixel averages the input pixels it covers.
    case box = 4
    /// Hamming-windowed sinc, support 1.
    case hamming = 5

    /// Pillow's name for the filter ("BICUBIC").
    public var description: String {
        switch self {
        case .nearest: return "NEAREST"
        case .lanczos: return "LANCZOS"
        case .bilinear: return "BILINEAR"
        case .bicubic: return "BICUBIC"
        case .box: return "BOX"
        case .hamming: return "HAMMING"
        }
    }

    /// Half-width of the kernel in input pixels at scale 1 (`struct filter.support`).
    var support: Double {
        switch self {
        case .nearest: return 0  // never used: nearest does not go through the separable filter
        case .box: return 0.5
        case .bilinear, .hamming: return 1
        case .bicubic: return 2
        case .lanczos: return 3
        }
    }

    /// The kernel's value at `x` (in input pixels at scale 1).
    func weight(_ x: Double) -> Double {
        switch self {
        case .nearest:
            return 0
        case .box:
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            let x = x < 0 ? -x : x
            return x < 1 ? 1 - x : 0
        case .hamming:
            var x = x < 0 ? -x : x
            if x == 0 { return 1 }
            if x >= 1 { return 0 }
            x = x * Double.pi
            // Pillow writes 0.54f and 0.46f: single-precision constants widened to double.
            return FloatMath.sin(x) / x * (Double(Float(0.54)) + Double(Float(0.46)) * FloatMath.cos(x))
        case .bicubic:
            let a = -0.5
            let x = x < 0 ? -x : x
            if x < 1 {
                // Parenthesised exactly as Pillow evaluates it.
                let p: Double = (a + 2.0) * x - (a + 3.0)
                return p * x * x + 1
            }
            if x < 2 {
                let p: Double = ((x - 5) * x + 8) * x - 4
                return p * a
            }
            return 0
        case .lanczos:
            return -3 <= x && x < 3 ? Self.sinc(x) * Self.sinc(x / 3) : 0
        }
    }

    private static func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let y = x * Double.pi
        return FloatMath.sin(y) / y
    }
}
