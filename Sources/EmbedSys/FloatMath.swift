@preconcurrency import Glibc

/// Scalar libm functions for modules that may not import Glibc (EmbedNN's load-time tables).
///
/// Hot loops use vectorised code instead; these are for setup and reference paths.
public enum FloatMath {
    /// Natural logarithm in single precision (`logf(3)`).
    public static func log(_ x: Float) -> Float { Glibc.logf(x) }
    /// Natural logarithm in double precision (`log(3)`).
    public static func log(_ x: Double) -> Double { Glibc.log(x) }
    /// Exponential in single precision (`expf(3)`).
    public static func exp(_ x: Float) -> Float { Glibc.expf(x) }
    /// Exponential in double precision (`exp(3)`).
    public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    /// Error function in single precision (`erff(3)`).
    public static func erf(_ x: Float) -> Float { Glibc.erff(x) }
    /// Error function in double precision (`erf(3)`; test references).
    public static func erf(_ x: Double) -> Double { Glibc.erf(x) }
    /// Hyperbolic tangent in single precision (`tanhf(3)`).
    public static func tanh(_ x: Float) -> Float { Glibc.tanhf(x) }
    /// Sine in double precision (`sin(3)`): EmbedVision's Lanczos and Hamming weights must use
    /// the same libm as Pillow to be bit-exact.
    public static func sin(_ x: Double) -> Double { Glibc.sin(x) }
    /// Cosine in double precision (`cos(3)`).
    public static func cos(_ x: Double) -> Double { Glibc.cos(x) }
}
