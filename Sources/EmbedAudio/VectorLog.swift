/// log10 of four float64 lanes at once, within 2 ulp of libm's: fdlibm/musl's `log` (argument
/// reduction to [√2/2, √2), a degree-14 odd series in s = f / (2 + f)) with fused multiply-adds,
/// times 1 / ln 10. Scalar libm calls would cost as much as the whole FFT.
enum VectorLog {
    typealias Lanes = SIMD4<Double>

    private static let ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10
    private static let lg1 = 6.666666666666735130e-01, lg2 = 3.999999999940941908e-01
    private static let lg3 = 2.857142874366239149e-01, lg4 = 2.222219843214978396e-01
    private static let lg5 = 1.818357216161805012e-01, lg6 = 1.531383769920937332e-01
    private static let lg7 = 1.479819860511658591e-01
    private static let inverseLn10 = 0.43429448190325182765

    /// log10 of every lane. Each lane must be a positive normal number (the mel floor, 1e-10,
    /// guarantees it); anything else gives a meaningless lane, never a trap.
    @inline(__always)
    static func log10(_ x: Lanes) -> Lanes {
        // x = 2^k · (1 + f) with 1 + f in [√2/2, √2): shift the mantissa's top word so that values
        // from √2/2 up carry into the exponent (musl's trick, on the whole 64-bit pattern).
        var u = unsafeBitCast(x, to: SIMD4<UInt64>.self)
        u &+= SIMD4(repeating: UInt64(0x3ff0_0000 - 0x3fe6_a09e) << 32)
        let biasedK = u &>> 52
        u = (u & SIMD4(repeating: 0x000f_ffff_ffff_ffff)) &+ SIMD4(repeating: UInt64(0x3fe6_a09e) << 32)
        // k as a double without an integer conversion: 2^52 + k's bits, minus 2^52 and the bias.
        let two52 = SIMD4<UInt64>(repeating: 0x4330_0000_0000_0000)
        let k = unsafeBitCast(biasedK | two52, to: Lanes.self) - Lanes(repeating: 4_503_599_627_370_496.0 + 1023.0)
        let f = unsafeBitCast(u, to: Lanes.self) - Lanes(repeating: 1)

        let hfsq = Lanes(repeating: 0.5) * f * f
        let s = f / (Lanes(repeating: 2) + f)
        let z = s * s, w = z * z
        func c(_ v: Double) -> Lanes { Lanes(repeating: v) }
        let t1 = w * c(lg2).addingProduct(w, c(lg4).addingProduct(w, c(lg6)))
        let t2 = z * c(lg1).addingProduct(w, c(lg3).addingProduct(w, c(lg5).addingProduct(w, c(lg7))))
        // s·(hfsq + R) + k·ln2_lo − hfsq + f + k·ln2_hi, musl's order, with fused multiply-adds.
        let low = (k * c(ln2Lo)).addingProduct(s, hfsq + (t2 + t1))
        let ln = ((low - hfsq) + f).addingProduct(k, c(ln2Hi))
        return ln * Lanes(repeating: inverseLn10)
    }
}
