/// SIMD distance kernels over raw `Float` arrays. `SIMD16<Float>` lets the compiler use the
/// widest vector unit it targets; two accumulators hide the add latency.
/// (Multiply then add, not `addProduct`: without an FMA target that calls `fmaf` per lane.)
enum Distance {
    /// Σ a[i]·b[i].
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var i = 0
        while i &+ 32 <= n {
            let x0 = ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let y0 = rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let x1 = ra.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD16<Float>.self)
            let y1 = rb.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD16<Float>.self)
            acc0 += x0 * y0
            acc1 += x1 * y1
            i &+= 32
        }
        if i &+ 16 <= n {
            let x0 = ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let y0 = rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            acc0 += x0 * y0
            i &+= 16
        }
        var s = (acc0 + acc1).sum()
        while i < n {
            s += a[i] * b[i]
            i &+= 1
        }
        return s
    }

    /// Σ (a[i] − b[i])².
    @inline(__always)
    static func l2Squared(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var acc0 = SIMD16<Float>(), acc1 = SIMD16<Float>()
        var i = 0
        while i &+ 32 <= n {
            let d0 = ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
                - rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            let d1 = ra.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD16<Float>.self)
                - rb.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD16<Float>.self)
            acc0 += d0 * d0
            acc1 += d1 * d1
            i &+= 32
        }
        if i &+ 16 <= n {
            let d0 = ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
                - rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            acc0 += d0 * d0
            i &+= 16
        }
        var s = (acc0 + acc1).sum()
        while i < n {
            let d = a[i] - b[i]
            s += d * d
            i &+= 1
        }
        return s
    }
}
