/// Vectorised fp32 kernels for the element-wise parts of a transformer (layer norm, softmax,
/// bf16 conversion), written with SIMD16 so LLVM emits AVX-512 on these machines.
/// Everything here works on raw pointers owned by the caller.
public enum VectorMath {
    typealias V = SIMD16<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Horizontal sum by halving (the generic `sum()` is a lane-by-lane loop).
    @inline(__always) static func hsum(_ v: V) -> Float {
        let a = v.lowHalf + v.highHalf
        let b = a.lowHalf + a.highHalf
        let c = b.lowHalf + b.highHalf
        return c[0] + c[1]
    }

    /// Horizontal maximum by halving, with compare-and-blend steps (the generic `pointwiseMax`
    /// is not specialised for the halves and costs a call each).
    @inline(__always) static func hmax(_ v: V) -> Float {
        let a = v.lowHalf.replacing(with: v.highHalf, where: v.lowHalf .< v.highHalf)
        let b = a.lowHalf.replacing(with: a.highHalf, where: a.lowHalf .< a.highHalf)
        let c = b.lowHalf.replacing(with: b.highHalf, where: b.lowHalf .< b.highHalf)
        return max(c[0], c[1])
    }

    /// `e^x` for 16 lanes (Cephes' single-precision polynomial, max error ~2 ulp).
    /// Rounding and the float→int conversion use the 1.5·2²³ "magic number" so everything stays
    /// in vector registers (SIMD's generic conversions compile to per-lane calls).
    @inline(__always) static func exp(_ x0: V) -> V {
        expNonPositive(pointwiseMin(pointwiseMax(x0, V(repeating: -87.33654)), V(repeating: 88.72283)))
    }

    /// `e^x` for lanes already within [−87.3, 88.7] (no clamping).
    @inline(__always) static func expNonPositive(_ x: V) -> V {
        let magic = V(repeating: 12582912)  // 1.5 · 2^23
        let t = x * 1.44269504088896341 + magic
        let n = t - magic                    // round(x · log2 e), to nearest even
        var r = x - n * 0.693359375
        r = r + n * 2.12194440e-4
        let r2 = r * r
        var p = V(repeating: 1.9875691500E-4)
        p = p * r + 1.3981999507E-3
        p = p * r + 8.3334519073E-3
        p = p * r + 4.1665795894E-2
        p = p * r + 1.6666665459E-1
        p = p * r + 5.0000001201E-1
        p = p * r2 + r + 1
        // The low mantissa bits of t hold n (offset by 2^22): shift them into the exponent.
        let tBits = unsafeBitCast(t, to: SIMD16<UInt32>.self)
        let scale = (tBits &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(scale, to: V.self)
    }

    /// Layer normalisation of `rows` rows of `width` (a multiple of 16) in place:
    /// `x = (x − mean) / sqrt(var + eps) · gamma + beta`, biased variance, as PyTorch.
    public static func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int,
                                 gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float) {
        layerNorm(x, into: x, rows: rows, width: width, gamma: gamma, beta: beta, eps: eps)
    }

    /// Layer normalisation of `rows` rows of `source` into `destination` (which may be `source`;
    /// pre-norm blocks keep the residual stream and feed the normalised copy on).
    public static func layerNorm(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>,
                                 rows: Int, width: Int, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                 eps: Float) {
        precondition(width % 16 == 0, "layerNorm width must be a multiple of 16")
        let inv = 1 / Float(width)
        for r in 0..<rows {
            let row = source + r * width
            let out = destination + r * width
            var s = V()
            var i = 0
            while i < width { s += load(row + i); i += 16 }
            let mean = hsum(s) * inv
            var q = V()
            i = 0
            while i < width { let d = load(row + i) - mean; q += d * d; i += 16 }
            let variance = hsum(q) * inv
            let rstd = 1 / (variance + eps).squareRoot()
            i = 0
            while i < width {
                let v = (load(row + i) - mean) * rstd * load(gamma + i) + load(beta + i)
                store(v, out + i)
                i += 16
            }
        }
    }

    /// Softmax over the first `count` entries of `x` in place (entries up to the next multiple
    /// of 16 are used as scratch and set to 0).
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let inv = 1 / softmaxNumerators(x, count: count)
        let padded = (count + 15) / 16 * 16
        var i = 0
        while i < padded { store(load(x + i) * inv, x + i); i += 16 }
    }

    /// The softmax's numerators `e^(x − max)` in place, returning their sum (the caller divides
    /// by it, or divides a product of the numerators: long attention scales each 64-float
    /// context row instead of its 1500 probabilities). Entries up to the next multiple of 16
    /// become 0.
    static func softmaxNumerators(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        let padded = (count + 15) / 16 * 16
        let floor = V(repeating: -87.33654)
        for j in count..<padded { x[j] = -.infinity }
        var m = load(x)
        var i = 16
        while i < padded { m = larger(m, load(x + i)); i += 16 }
        let mx = V(repeating: hmax(m))
        // Shifted by the maximum and clamped to exp's range (the padding becomes e^−87.3 ≈ 0).
        var s = V()
        i = 0
        while i < padded {
            let e = expNonPositive(larger(load(x + i) - mx, floor))
            store(e, x + i)
            s += e
            i += 16
        }
        for j in count..<padded { x[j] = 0 }
        return hsum(s)
    }

    /// Lane-wise maximum as one compare and blend (the generic `pointwiseMax` follows IEEE
    /// maximum's NaN rules lane by lane).
    @inline(__always) static func larger(_ a: V, _ b: V) -> V {
        a.replacing(with: b, where: a .< b)
    }

    /// Converts `count` floats to bfloat16 (round to nearest even; NaN stays NaN).
    public static func toBF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let bits = unsafeBitCast(load(src + i), to: SIMD16<UInt32>.self)
            let rounded = (bits &+ 0x7FFF &+ ((bits &>> 16) & 1)) &>> 16
            UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: rounded), as: SIMD16<UInt16>.self)
            i += 16
        }
        while i < count {
            let bits = src[i].bitPattern
            dst[i] = src[i].isNaN ? UInt16(bits >> 16) | 0x40 : UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
            i += 1
        }
    }

    /// `y[0..<n] += a · x[0..<n]` with `n` a multiple of 16.
    @inline(__always) static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i < n { store(load(y + i) + a * load(x + i), y + i); i += 16 }
    }

    /// Scales a vector to unit L2 length (left as is when it is all zeros).
    public static func normalize(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var s: Float = 0
        for i in 0..<count { s += x[i] * x[i] }
        // sentence-transformers' Normalize is torch's F.normalize: x / max(‖x‖, 1e-12).
        let n = max(s.squareRoot(), 1e-12)
        for i in 0..<count { x[i] /= n }
    }
}
