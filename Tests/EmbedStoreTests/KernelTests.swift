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
}
