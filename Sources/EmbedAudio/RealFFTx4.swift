import EmbedSys

/// Power spectra of four real signals of even length `n` at once, in float64: one signal per SIMD
/// lane, so every butterfly is plain vector arithmetic with no shuffles.
///
/// The `n` real samples are packed as `n / 2` complex ones (even samples real, odd samples
/// imaginary), transformed by a mixed-radix Stockham FFT (radices 8, 4, 2, 3, 5: n / 2 must factor
/// into them; 400 → 200 = 8·5·5), and unpacked into the `n / 2 + 1` bins of the one-sided
/// spectrum. Twiddles are computed once, in float64 with libm's `cos`/`sin`. Immutable, so one
/// instance serves every thread; the buffers belong to the caller.
struct RealFFTx4: Sendable {
    typealias Lanes = SIMD4<Double>

    /// The real length `n`.
    let length: Int
    /// `n / 2`, the complex FFT's length.
    let half: Int
    /// One radix per stage.
    private let radices: [Int]
    /// Per stage, per butterfly group p, per k in 1..<radix: the twiddle w^(p·k) as (re, im).
    private let twiddles: [Double]
    /// Where each stage's twiddles start.
    private let twiddleStart: [Int]
    /// exp(-2πik / n) for k in 0..<half, as (re, im): the unpacking of the packed transform.
    private let unpack: [Double]

    /// Whether `length` is even with `length / 2` a product of 2, 3 and 5.
    static func supports(length: Int) -> Bool {
        guard length >= 2, length % 2 == 0 else { return false }
        var m = length / 2
        for p in [2, 3, 5] { while m % p == 0 { m /= p } }
        return m == 1
    }

    init(length n: Int) {
        precondition(Self.supports(length: n), "RealFFTx4: unsupported length \(n)")
        length = n
        half = n / 2
        var radices: [Int] = [], rest = half
        for r in [8, 4, 2, 3, 5] { while rest % r == 0 { radices.append(r); rest /= r } }
        self.radices = radices

        var twiddles: [Double] = [], starts: [Int] = []
        var span = half  // the sub-transform length a stage splits
        for r in radices {
            starts.append(twiddles.count)
            let m = span / r
            for p in 0..<m {
                for k in 1..<r {
                    let (c, s) = Self.unitRoot(p * k, of: span)
                    twiddles += [c, -s]
                }
            }
            span = m
        }
        self.twiddles = twiddles
        twiddleStart = starts
        var unpack: [Double] = []
        for k in 0..<half {
            let (c, s) = Self.unitRoot(k, of: n)
            unpack += [c, -s]
        }
        self.unpack = unpack
    }

    /// (cos, sin) of 2π·j/n, with j reduced into the first octant's neighbourhood for accuracy.
    private static func unitRoot(_ j: Int, of n: Int) -> (Double, Double) {
        let j = j % n
        let angle = 2.0 * Double.pi * Double(j) / Double(n)
        return (FloatMath.cos(angle), FloatMath.sin(angle))
    }

    /// Transforms the packed signals in `re`/`im` (`half` lanes each: re[j] = x[2j], im[j] = x[2j + 1])
    /// and writes 4·|X[k]|² (the power, times 4) for bins 0...half to `power` (`half + 1` lanes). `workRe` and
    /// `workIm` (`half` lanes each) are scratch; `re` and `im` are overwritten.
    func powerSpectrum(re: UnsafeMutablePointer<Lanes>, im: UnsafeMutablePointer<Lanes>,
                       workRe: UnsafeMutablePointer<Lanes>, workIm: UnsafeMutablePointer<Lanes>,
                       power: UnsafeMutablePointer<Lanes>) {
        var (xr, xi, yr, yi) = (re, im, workRe, workIm)
        twiddles.withUnsafeBufferPointer { tw in
            var span = half, stride = 1
            for (stage, r) in radices.enumerated() {
                let m = span / r
                let t = tw.baseAddress! + twiddleStart[stage]
                switch r {
                case 8: Self.radix8(xr, xi, yr, yi, m: m, s: stride, tw: t)
                case 4: Self.radix4(xr, xi, yr, yi, m: m, s: stride, tw: t)
                case 2: Self.radix2(xr, xi, yr, yi, m: m, s: stride, tw: t)
                case 3: Self.radix3(xr, xi, yr, yi, m: m, s: stride, tw: t)
                default: Self.radix5(xr, xi, yr, yi, m: m, s: stride, tw: t)
                }
                swap(&xr, &yr)
                swap(&xi, &yi)
                span = m
                stride *= r
            }
        }
        unpack.withUnsafeBufferPointer { u in unpackPower(xr, xi, u.baseAddress!, power) }
    }

    /// Z = FFT of the packed signal; with A = Z[k] and B = conj(Z[half - k]), the real signal's
    /// spectrum is 2·X[k] = E + W^k·D with E = A + B, D = -i·(A - B), W = exp(-2πi / n). Bin
    /// half - k has E' = conj(E), D' = conj(D) and W^(half-k) = -conj(W^k), so
    /// 2·X[half - k] = conj(E - W^k·D): one twiddle product serves both bins. `power` gets |2·X|².
    private func unpackPower(_ zr: UnsafeMutablePointer<Lanes>, _ zi: UnsafeMutablePointer<Lanes>,
                             _ w: UnsafePointer<Double>, _ power: UnsafeMutablePointer<Lanes>) {
        let dc = zr[0] + zi[0], nyquist = zr[0] - zi[0]
        power[0] = (dc * dc) * 4
        power[half] = (nyquist * nyquist) * 4
        var k = 1
        while 2 * k <= half {
            let ar = zr[k], ai = zi[k], br = zr[half - k], bi = -zi[half - k]
            let er = ar + br, ei = ai + bi           // E = A + B
            let dr = ai - bi, di = br - ar            // D = -i·(A - B)
            let wr = Lanes(repeating: w[2 * k]), wi = Lanes(repeating: w[2 * k + 1])
            let tr = (-(di * wi)).addingProduct(dr, wr), ti = (dr * wi).addingProduct(di, wr)  // T = W^k·D
            let pr = er + tr, pi = ei + ti, mr = er - tr, mi = ei - ti
            power[k] = (pr * pr).addingProduct(pi, pi)
            power[half - k] = (mr * mr).addingProduct(mi, mi)  // k = half / 2 writes its bin twice, equal
            k += 1
        }
    }

    // MARK: Stockham stages: y[q + s·(r·p + k)] = w^(p·k) · Σ_j x[q + s·(p + j·m)] · e^(-2πi·j·k/r)
    // Group p = 0 skips its twiddles (all 1): the whole last stage (m = 1) multiplies by nothing.

    @inline(__always)
    private static func twiddle(_ r: inout Lanes, _ i: inout Lanes, _ t: UnsafePointer<Double>) {
        let wr = Lanes(repeating: t[0]), wi = Lanes(repeating: t[1])
        (r, i) = ((-(i * wi)).addingProduct(r, wr), (i * wr).addingProduct(r, wi))
    }

    private static func radix2(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                               _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                               m: Int, s: Int, tw: UnsafePointer<Double>) {
        radix2Group(xr, xi, yr, yi, p: 0, m: m, s: s, t: tw, twiddled: false)  // w^0 = 1
        for p in 1..<max(1, m) { radix2Group(xr, xi, yr, yi, p: p, m: m, s: s, t: tw + 2 * p, twiddled: true) }
    }

    @inline(__always)
    private static func radix2Group(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                               _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                               p: Int, m: Int, s: Int, t: UnsafePointer<Double>, twiddled: Bool) {
        for q in 0..<s {
            let i0 = q + s * p, i1 = i0 + s * m
            let a0r = xr[i0], a0i = xi[i0], a1r = xr[i1], a1i = xi[i1]
            var b1r = a0r - a1r, b1i = a0i - a1i
            if twiddled { twiddle(&b1r, &b1i, t) }
            let o = q + s * 2 * p
            yr[o] = a0r + a1r; yi[o] = a0i + a1i
            yr[o + s] = b1r; yi[o + s] = b1i
        }
    }

    private static func radix3(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                               _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                               m: Int, s: Int, tw: UnsafePointer<Double>) {
        radix3Group(xr, xi, yr, yi, p: 0, m: m, s: s, t: tw, twiddled: false)  // w^0 = 1
        for p in 1..<max(1, m) { radix3Group(xr, xi, yr, yi, p: p, m: m, s: s, t: tw + 4 * p, twiddled: true) }
    }

    @inline(__always)
    private static func radix3Group(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                               _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                               p: Int, m: Int, s: Int, t: UnsafePointer<Double>, twiddled: Bool) {
        let half = Lanes(repeating: 0.5), sin3 = Lanes(repeating: 0.8660254037844386)  // sin(2π/3)
        for q in 0..<s {
            let i0 = q + s * p, i1 = i0 + s * m, i2 = i1 + s * m
            let a0r = xr[i0], a0i = xi[i0]
            let tr = xr[i1] + xr[i2], ti = xi[i1] + xi[i2]
            let vr = (xr[i1] - xr[i2]) * sin3, vi = (xi[i1] - xi[i2]) * sin3
            let ur = a0r.addingProduct(tr, -half), ui = a0i.addingProduct(ti, -half)
            var b1r = ur + vi, b1i = ui - vr
            var b2r = ur - vi, b2i = ui + vr
            if twiddled { twiddle(&b1r, &b1i, t) }
            if twiddled { twiddle(&b2r, &b2i, t + 2) }
            let o = q + s * 3 * p
            yr[o] = a0r + tr; yi[o] = a0i + ti
            yr[o + s] = b1r; yi[o + s] = b1i
            yr[o + 2 * s] = b2r; yi[o + 2 * s] = b2i
        }
    }

    private static func radix4(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                               _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                               m: Int, s: Int, tw: UnsafePointer<Double>) {
        radix4Group(xr, xi, yr, yi, p: 0, m: m, s: s, t: tw, twiddled: false)  // w^0 = 1
        for p in 1..<max(1, m) { radix4Group(xr, xi, yr, yi, p: p, m: m, s: s, t: tw + 6 * p, twiddled: true) }
    }

    @inline(__always)
    private static func radix4Group(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                               _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                               p: Int, m: Int, s: Int, t: UnsafePointer<Double>, twiddled: Bool) {
        for q in 0..<s {
            let i0 = q + s * p, i1 = i0 + s * m, i2 = i1 + s * m, i3 = i2 + s * m
            let t0r = xr[i0] + xr[i2], t0i = xi[i0] + xi[i2]
            let t1r = xr[i0] - xr[i2], t1i = xi[i0] - xi[i2]
            let t2r = xr[i1] + xr[i3], t2i = xi[i1] + xi[i3]
            let t3r = xr[i1] - xr[i3], t3i = xi[i1] - xi[i3]
            var b1r = t1r + t3i, b1i = t1i - t3r   // t1 - i·t3
            var b2r = t0r - t2r, b2i = t0i - t2i
            var b3r = t1r - t3i, b3i = t1i + t3r   // t1 + i·t3
            if twiddled { twiddle(&b1r, &b1i, t) }
            if twiddled { twiddle(&b2r, &b2i, t + 2) }
            if twiddled { twiddle(&b3r, &b3i, t + 4) }
            let o = q + s * 4 * p
            yr[o] = t0r + t2r; yi[o] = t0i + t2i
            yr[o + s] = b1r; yi[o + s] = b1i
            yr[o + 2 * s] = b2r; yi[o + 2 * s] = b2i
            yr[o + 3 * s] = b3r; yi[o + 3 * s] = b3i
        }
    }

    private static func radix8(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                               _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                               m: Int, s: Int, tw: UnsafePointer<Double>) {
        radix8Group(xr, xi, yr, yi, p: 0, m: m, s: s, t: tw, twiddled: false)  // w^0 = 1
        for p in 1..<max(1, m) { radix8Group(xr, xi, yr, yi, p: p, m: m, s: s, t: tw + 14 * p, twiddled: true) }
    }

    /// The 8-point DFT as two radix-2 layers around two 4-point DFTs: with s_j = a_j + a_(j+4)
    /// and d_j = (a_j - a_(j+4))·W8^j (j < 4, W8 = e^(-2πi/8)), b_(2k) = DFT4(s)_k and
    /// b_(2k+1) = DFT4(d)_k.
    @inline(__always)
    private static func radix8Group(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                                    _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                                    p: Int, m: Int, s: Int, t: UnsafePointer<Double>, twiddled: Bool) {
        let h = Lanes(repeating: 0.70710678118654752)  // √2 / 2, correctly rounded
        for q in 0..<s {
            let i0 = q + s * p, step = s * m
            var sr = (Lanes(), Lanes(), Lanes(), Lanes()), si = sr, dr = sr, di = sr
            @inline(__always) func load(_ j: Int) -> (Lanes, Lanes, Lanes, Lanes) {
                let a = i0 + j * step, b = a + 4 * step
                return (xr[a] + xr[b], xi[a] + xi[b], xr[a] - xr[b], xi[a] - xi[b])
            }
            (sr.0, si.0, dr.0, di.0) = load(0)
            (sr.1, si.1, dr.1, di.1) = load(1)
            (sr.2, si.2, dr.2, di.2) = load(2)
            (sr.3, si.3, dr.3, di.3) = load(3)
            // d1·W8 = (d1r + d1i, d1i - d1r)·√2/2; d2·W8² = (d2i, -d2r); d3·W8³ = (d3i - d3r, -(d3r + d3i))·√2/2.
            (dr.1, di.1) = ((dr.1 + di.1) * h, (di.1 - dr.1) * h)
            (dr.2, di.2) = (di.2, -dr.2)
            (dr.3, di.3) = ((di.3 - dr.3) * h, -(dr.3 + di.3) * h)
            let o = q + s * 8 * p
            @inline(__always) func dft4(_ ur: (Lanes, Lanes, Lanes, Lanes), _ ui: (Lanes, Lanes, Lanes, Lanes), first: Int) {
                let t0r = ur.0 + ur.2, t0i = ui.0 + ui.2, t1r = ur.0 - ur.2, t1i = ui.0 - ui.2
                let t2r = ur.1 + ur.3, t2i = ui.1 + ui.3, t3r = ur.1 - ur.3, t3i = ui.1 - ui.3
                emit(first, t0r + t2r, t0i + t2i)
                emit(first + 2, t1r + t3i, t1i - t3r)   // t1 - i·t3
                emit(first + 4, t0r - t2r, t0i - t2i)
                emit(first + 6, t1r - t3i, t1i + t3r)   // t1 + i·t3
            }
            @inline(__always) func emit(_ j: Int, _ r: Lanes, _ i: Lanes) {
                var (r, i) = (r, i)
                if twiddled && j > 0 { twiddle(&r, &i, t + 2 * (j - 1)) }
                yr[o + j * s] = r; yi[o + j * s] = i
            }
            dft4(sr, si, first: 0)
            dft4(dr, di, first: 1)
        }
    }

    private static func radix5(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                               _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                               m: Int, s: Int, tw: UnsafePointer<Double>) {
        radix5Group(xr, xi, yr, yi, p: 0, m: m, s: s, t: tw, twiddled: false)  // w^0 = 1
        for p in 1..<max(1, m) { radix5Group(xr, xi, yr, yi, p: p, m: m, s: s, t: tw + 8 * p, twiddled: true) }
    }

    @inline(__always)
    private static func radix5Group(_ xr: UnsafeMutablePointer<Lanes>, _ xi: UnsafeMutablePointer<Lanes>,
                               _ yr: UnsafeMutablePointer<Lanes>, _ yi: UnsafeMutablePointer<Lanes>,
                               p: Int, m: Int, s: Int, t: UnsafePointer<Double>, twiddled: Bool) {
        // cos and sin of 2π/5 and 4π/5, correctly rounded.
        let c1 = Lanes(repeating: 0.30901699437494745), c2 = Lanes(repeating: -0.8090169943749475)
        let s1 = Lanes(repeating: 0.9510565162951535), s2 = Lanes(repeating: 0.5877852522924731)
        for q in 0..<s {
            let i0 = q + s * p, i1 = i0 + s * m, i2 = i1 + s * m, i3 = i2 + s * m, i4 = i3 + s * m
            let a0r = xr[i0], a0i = xi[i0]
            let t1r = xr[i1] + xr[i4], t1i = xi[i1] + xi[i4]
            let t2r = xr[i2] + xr[i3], t2i = xi[i2] + xi[i3]
            let t3r = xr[i1] - xr[i4], t3i = xi[i1] - xi[i4]
            let t4r = xr[i2] - xr[i3], t4i = xi[i2] - xi[i3]
            let u1r = a0r.addingProduct(c1, t1r).addingProduct(c2, t2r), u1i = a0i.addingProduct(c1, t1i).addingProduct(c2, t2i)
            let u2r = a0r.addingProduct(c2, t1r).addingProduct(c1, t2r), u2i = a0i.addingProduct(c2, t1i).addingProduct(c1, t2i)
            let v1r = (s1 * t3r).addingProduct(s2, t4r), v1i = (s1 * t3i).addingProduct(s2, t4i)
            let v2r = (s2 * t3r).addingProduct(-s1, t4r), v2i = (s2 * t3i).addingProduct(-s1, t4i)
            var b1r = u1r + v1i, b1i = u1i - v1r   // u1 - i·v1
            var b4r = u1r - v1i, b4i = u1i + v1r   // u1 + i·v1
            var b2r = u2r + v2i, b2i = u2i - v2r
            var b3r = u2r - v2i, b3i = u2i + v2r
            if twiddled { twiddle(&b1r, &b1i, t) }
            if twiddled { twiddle(&b2r, &b2i, t + 2) }
            if twiddled { twiddle(&b3r, &b3i, t + 4) }
            if twiddled { twiddle(&b4r, &b4i, t + 6) }
            let o = q + s * 5 * p
            yr[o] = a0r + t1r + t2r; yi[o] = a0i + t1i + t2i
            yr[o + s] = b1r; yi[o + s] = b1i
            yr[o + 2 * s] = b2r; yi[o + 2 * s] = b2i
            yr[o + 3 * s] = b3r; yi[o + 3 * s] = b3i
            yr[o + 4 * s] = b4r; yi[o + 4 * s] = b4i
        }
    }
}
