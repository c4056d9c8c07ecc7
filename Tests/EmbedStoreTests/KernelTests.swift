@testable import EmbedStore
import Testing

/// The run-time-selected distance kernels (AVX-512 VNNI / AVX-512 / AVX2 / portable) against a
/// plain Swift reference, at every length that exercises their main loops and masked tails.
@Suite struct KernelTests {
    @Test func int8DotIsExact() throws {
        let s = try NodeStore(dimension: 4, metric: .l2, m: 4)
        var gen = DataGen(seed: 11)
        for n in Array(0...200) + [383, 384, 385, 768, 1536] {
            for pattern in 0..<3 {
                let a: [Int8] = (0..<n).map { i in pattern == 1 ? -128 : pattern == 2 ? (i % 2 == 0 ? 127 : -128) : Int8(truncatingIfNeeded: gen.next()) }
                let b: [Int8] = (0..<n).map { _ in pattern == 1 ? -128 : Int8(truncatingIfNeeded: gen.next()) }
                let want = zip(a, b).reduce(Int32(0)) { $0 + Int32($1.0) * Int32($1.1) }
                let got = a.withUnsafeBufferPointer { ab in b.withUnsafeBufferPointer { bb in s.dotI8Kernel(ab.baseAddress, bb.baseAddress, n) } }
                #expect(got == want, "n \(n), pattern \(pattern)")
            }
        }
    }

    @Test func floatKernelsMatchWithinRounding() throws {
        let s = try NodeStore(dimension: 4, metric: .l2, m: 4)
        var gen = DataGen(seed: 12)
        for n in Array(1...70) + [127, 128, 129, 384, 1536] {
            let a = gen.random(n: 1, dim: n)[0], b = gen.random(n: 1, dim: n)[0]
            let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let l2 = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
            let scale = zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) } + 1e-6
            a.withUnsafeBufferPointer { ab in
                b.withUnsafeBufferPointer { bb in
                    #expect(abs(Double(s.dotKernel(ab.baseAddress, bb.baseAddress, n)) - dot) <= 1e-5 * scale, "dot n \(n)")
                    #expect(abs(Double(s.l2Kernel(ab.baseAddress, bb.baseAddress, n)) - l2) <= 1e-5 * (l2 + 1e-6), "l2 n \(n)")
                }
            }
        }
    }

    /// The SIMD half-precision converters agree with the portable ones bit for bit: every
    /// non-NaN half widens exactly, and floats narrow with round-to-nearest-even (ties,
    /// subnormals, overflow to infinity).
    @Test func halfPrecisionConvertersMatchThePortableOnes() throws {
        let s = try NodeStore(dimension: 4, metric: .l2, m: 4, storage: .f16)
        let decode = s.f16Decode, encode = s.f16Encode
        let halves = (0...0xFFFF).map(UInt16.init).filter { ($0 & 0x7C00) != 0x7C00 || ($0 & 0x3FF) == 0 }
        var simd = [Float](repeating: 0, count: halves.count), plain = simd
        decode(halves, &simd, halves.count)
        NodeStore.portableF16Decode(halves, &plain, halves.count)
        #expect(simd.map(\.bitPattern) == plain.map(\.bitPattern))
        for (h, f) in zip(halves, plain) where (h & 0x7C00) != 0x7C00 {
            #expect(Float(Float16(bitPattern: h)) == f, "half \(h)")
        }
        var gen = DataGen(seed: 5)
        var floats: [Float] = [0, -0, 1, 65504, 65519.99, 65520, -65520, 1e10, 5.96e-8, 2.98e-8, 2.99e-8, 6.1e-5, 6.09e-5, 1e-20, .infinity, -.infinity]
        for i in 0..<2048 { floats.append(Float(Float16(bitPattern: UInt16(i * 32))) + Float(0x1p-25)) }  // near ties
        for _ in 0..<20000 { floats.append(Float(bitPattern: UInt32(truncatingIfNeeded: gen.next()) & 0x47FF_FFFF | (gen.next() & 1 == 0 ? 0 : 0x8000_0000))) }
        floats = floats.filter { !$0.isNaN }
        var a = [UInt16](repeating: 0, count: floats.count), b = a
        encode(floats, &a, floats.count)
        NodeStore.portableF16Encode(floats, &b, floats.count)
        #expect(a == b)
        for (f, h) in zip(floats, b) { #expect(Float16(f).bitPattern == h, "float \(f)") }
    }

    /// The SIMD quantiser gives the portable one's codes and scale bit for bit: halves round
    /// away from zero, tails, tiny vectors (the divide-first path), zero vectors.
    @Test func quantiserMatchesThePortableOne() throws {
        var gen = DataGen(seed: 31)
        var vectors: [[Float]] = [[0, 0, 0], [1, -1, 0.5, -0.5], (0..<40).map { Float($0) - 20 }]
        vectors.append((0..<33).map { i in Float(i % 5) * 127 / 4 / 127 })  // codes on exact halves
        vectors.append([3e-37, -1.5e-37, 0, 6e-38] + [Float](repeating: 1e-38, count: 20))
        for n in [1, 15, 16, 17, 31, 32, 33, 128, 384, 385] {
            for _ in 0..<20 { vectors.append(gen.random(n: 1, dim: n)[0].map { $0 * Float(1 + gen.next() % 1000) }) }
        }
        // Values that land exactly on .5 after scaling by 127/max: max 127, halves below it.
        vectors.append([127] + (0..<40).map { Float($0) + 0.5 } + (0..<40).map { -Float($0) - 0.5 })
        for v in vectors {
            var a = [Int8](repeating: 9, count: v.count), b = a
            let sa = v.withUnsafeBufferPointer { p in a.withUnsafeMutableBufferPointer { NodeStore.quantize(p.baseAddress!, v.count, into: $0.baseAddress!) } }
            let sb = v.withUnsafeBufferPointer { p in b.withUnsafeMutableBufferPointer { NodeStore.portableQuantize(p.baseAddress!, v.count, into: $0.baseAddress!) } }
            #expect(a == b && sa.bitPattern == sb.bitPattern, "\(v.prefix(8))")
            // And the portable one is what the Swift code did: round(x·127/max) away from zero.
            let m = v.map(abs).max()!
            if m > 0, (127 / m).isFinite {
                #expect(b == v.map { Int8(max(-127, min(127, ($0 * (127 / m)).rounded()))) })
            }
        }
    }
}
