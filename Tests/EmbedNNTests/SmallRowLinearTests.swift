import CNNKernels
@testable import EmbedNN
import EmbedSys
import Testing

/// Linear's small-row path (CNNKernels, fp32 calls of up to `Linear.exactRows` rows) against a
/// Double-precision reference and against oneDNN, for every epilogue and for sizes that are
/// not multiples of the kernel's 16-column panels or of its 128-row chunks. The tests of the
/// path itself run where Linear uses it (CPUs where oneDNN keeps fp32 weights plain: AVX2-only).
struct SmallRowLinearTests {
    static let pathInUse: Bool = {
        guard let context = try? ComputeContext(threads: 1), let linear = try? Case(n: 16, k: 16, seed: 1).linear(context, .none)
        else { return false }
        return linear.usesSmallRowKernel
    }()

    /// Deterministic values in [-scale, scale).
    private static func values(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var x = seed
        return (0..<n).map { _ in
            x = x &* 6364136223846793005 &+ 1442695040888963407
            return Float(Double(x >> 40) / Double(1 << 24) * 2 - 1) * scale
        }
    }

    private static func gelu(_ z: Double) -> Double { 0.5 * z * (1 + FloatMath.erf(z / 2.0.squareRoot())) }
    private static func quickGELU(_ z: Double) -> Double { z / (1 + FloatMath.exp(-1.702 * z)) }

    /// One layer's weights, bias and input rows.
    fileprivate struct Case {
        let n, k: Int
        let w, b, x, residual: [Float]
        init(n: Int, k: Int, seed: UInt64) {
            self.n = n
            self.k = k
            w = values(n * k, seed: seed, scale: 1 / Float(k).squareRoot())
            b = values(n, seed: seed + 1, scale: 0.5)
            x = values(Linear.bucket(64) * k, seed: seed + 2, scale: 2)
            residual = values(Linear.bucket(64) * n, seed: seed + 3)
        }

        /// The exact result for row r, column c, and the sum of the magnitudes of its terms
        /// (what float rounding scales with).
        func reference(_ e: Linear.Epilogue, row r: Int, column c: Int) -> (value: Double, scale: Double) {
            var z = Double(b[c]), scale = abs(Double(b[c]))
            for i in 0..<k {
                let t = Double(x[r * k + i]) * Double(w[c * k + i])
                z += t
                scale += abs(t)
            }
            switch e {
            case .none: return (z, scale)
            case .gelu: return (SmallRowLinearTests.gelu(z), scale)
            case .quickGELU: return (SmallRowLinearTests.quickGELU(z), scale)
            case .residualAdd: return (Double(residual[r * n + c]) + z, scale + abs(Double(residual[r * n + c])))
            }
        }

        func linear(_ context: ComputeContext, _ e: Linear.Epilogue, smallRows: Bool = true) throws -> Linear {
            try w.withUnsafeBufferPointer { w in
                try b.withUnsafeBufferPointer { b in
                    try Linear(context: context, weight: w.baseAddress!, bias: b.baseAddress!, outFeatures: n, inFeatures: k,
                               precision: .fp32, epilogue: e, smallRows: smallRows)
                }
            }
        }

        /// Runs `rows` rows; the destination holds the residual on entry and 16 guard floats past
        /// the last row, which must come back untouched.
        func run(_ linear: Linear, rows: Int) throws -> [Float] {
            let m = Linear.bucket(rows)
            let guardValue: Float = 12345.5
            var y = Array(residual.prefix(m * n)) + [Float](repeating: guardValue, count: 16)
            try x.withUnsafeBufferPointer { x in
                try y.withUnsafeMutableBufferPointer { y in
                    try linear.forward(rows: rows, source: x.baseAddress!, destination: y.baseAddress!)
                }
            }
            #expect(y.suffix(16).allSatisfy { $0 == guardValue }, "\(n)×\(k), \(rows) rows: wrote past the destination")
            return Array(y.prefix(rows * n))
        }
    }

    private static let epilogues: [Linear.Epilogue] = [.none, .gelu, .quickGELU, .residualAdd]

    /// Sizes: single column, N below / at / above a panel, K odd, K across the 128-row chunks.
    private static let sizes: [(n: Int, k: Int)] = [(1, 1), (5, 3), (16, 16), (17, 7), (40, 129), (70, 257), (33, 384)]

    /// Expects every value within `tolerance`·Σ|terms| (float rounding of the sums) plus
    /// 2e-6·|value| (the activations' own error) of the reference.
    private static func check(_ c: Case, _ e: Linear.Epilogue, rows: Int, _ y: [Float], tolerance: Double,
                              _ label: String) {
        var worst = 0.0
        for r in 0..<rows {
            for col in 0..<c.n {
                let (want, scale) = c.reference(e, row: r, column: col)
                // Float rounding of the sums, plus the activation's own ~1e-6 relative error.
                let err = abs(Double(y[r * c.n + col]) - want) / (scale * tolerance + abs(want) * 2e-6 + 1e-30)
                worst = max(worst, err)
            }
        }
        #expect(worst <= 1, "\(label): \(c.n)×\(c.k), \(rows) rows, \(e): error \(worst) of the bound")
    }

    @Test(.enabled(if: pathInUse), arguments: [0, 1, 2, 3])
    func matchesDoublePrecisionForEveryEpilogueAndRowCount(epilogue: Int) throws {
        let e = Self.epilogues[epilogue]
        let context = try ComputeContext(threads: 2)
        context.enterComputeThread()
        for (i, s) in Self.sizes.enumerated() {
            let c = Case(n: s.n, k: s.k, seed: UInt64(100 * i + epilogue))
            let linear = try c.linear(context, e)
            for rows in 1...Linear.exactRows {
                Self.check(c, e, rows: rows, try c.run(linear, rows: rows), tolerance: 1e-6, "small rows")
            }
        }
    }

    /// The same weights through oneDNN (`smallRows: false`) give the same results to float
    /// rounding; oneDNN's gelu_erf (Abramowitz–Stegun, ~1.5e-7 absolute in erf) included.
    @Test func agreesWithOneDNN() throws {
        let context = try ComputeContext(threads: 2)
        context.enterComputeThread()
        for e in Self.epilogues {
            for (n, k) in [(96, 64), (1536, 384), (70, 257)] {
                let c = Case(n: n, k: k, seed: UInt64(n + k))
                let small = try c.linear(context, e), dnnl = try c.linear(context, e, smallRows: false)
                for rows in [1, 2, 7, 10, 16, 31, 32] {
                    let a = try c.run(small, rows: rows), b = try c.run(dnnl, rows: rows)
                    var worst = 0.0
                    for r in 0..<rows {
                        for col in 0..<n {
                            let scale = c.reference(e, row: r, column: col).scale
                            let d = abs(Double(a[r * n + col]) - Double(b[r * n + col]))
                            worst = max(worst, d / (scale * 1e-6 + abs(Double(b[r * n + col])) * 2e-6 + 1e-30))
                        }
                    }
                    #expect(worst <= 1, "\(n)×\(k), \(rows) rows, \(e): small rows vs oneDNN \(worst) of the bound")
                }
            }
        }
    }

    /// A layer packed for small rows makes oneDNN's copy from its panels at its first larger
    /// call; both paths keep working afterwards.
    @Test(.enabled(if: pathInUse)) func largerCallsMakeOneDNNsWeightsFromThePanels() throws {
        let context = try ComputeContext(threads: 2)
        context.enterComputeThread()
        for (i, s) in [(40, 129), (17, 7), (1, 1)].enumerated() {
            for e in Self.epilogues {
                let c = Case(n: s.0, k: s.1, seed: UInt64(7 + i))
                let linear = try c.linear(context, e)
                #expect(linear.usesSmallRowKernel)
                for rows in [3, 33, 48, 64, 32, 1] {
                    Self.check(c, e, rows: rows, try c.run(linear, rows: rows), tolerance: 1e-6, "after a larger call")
                }
            }
        }
    }

    /// A row's result does not depend on the rows beside it or on the thread count: every
    /// column's sum runs in the same order whatever the split (bit-identical).
    @Test(.enabled(if: pathInUse)) func rowsDoNotDependOnTheBatchOrTheThreads() throws {
        let c = Case(n: 70, k: 257, seed: 42)
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            let context = try ComputeContext(threads: threads)
            context.enterComputeThread()
            let linear = try c.linear(context, .gelu)
            let all = try c.run(linear, rows: 32)
            for rows in [1, 5, 6, 7, 13, 31] {
                #expect(try c.run(linear, rows: rows) == Array(all.prefix(rows * c.n)), "\(threads) threads, \(rows) rows")
            }
            results.append(all)
        }
        #expect(results.allSatisfy { $0 == results[0] })
    }

    /// The activations alone (a 1×1 layer of weight 1), over the range where they are not
    /// trivially 0 or z, against double precision: ~1e-6 relative, less than 1e-9 absolute.
    @Test(.enabled(if: pathInUse)) func activationsMatchDoublePrecision() throws {
        let context = try ComputeContext(threads: 1)
        context.enterComputeThread()
        let one: [Float] = [1], zero: [Float] = [0]
        for (e, f) in [(Linear.Epilogue.gelu, Self.gelu), (.quickGELU, Self.quickGELU)] {
            let linear = try one.withUnsafeBufferPointer { w in
                try zero.withUnsafeBufferPointer { b in
                    try Linear(context: context, weight: w.baseAddress!, bias: b.baseAddress!, outFeatures: 1, inFeatures: 1,
                               precision: .fp32, epilogue: e)
                }
            }
            var worstRelative = 0.0, worstAbsolute = 0.0
            var z: Float = -12
            while z < 12 {
                let x = (0..<32).map { z + Float($0) * 0.0009765625 }
                var y = [Float](repeating: 0, count: 32)
                try linear.forward(rows: 32, source: x, destination: &y)
                for (xi, yi) in zip(x, y) {
                    let want = f(Double(xi)), err = abs(Double(yi) - want)
                    worstAbsolute = max(worstAbsolute, err)
                    if abs(want) > 1e-4 { worstRelative = max(worstRelative, err / abs(want)) }
                }
                z += 32 * 0.0009765625
            }
            #expect(worstRelative < 2e-6 && worstAbsolute < 1e-6, "\(e): relative \(worstRelative), absolute \(worstAbsolute)")
        }
    }

    /// The portable kernel (CPUs without AVX2+FMA) computes the same, any share split; past 32
    /// rows the kernel takes several passes.
    @Test func portableKernelAgrees() {
        for (n, k) in [(5, 3), (40, 129), (33, 384)] {
            let c = Case(n: n, k: k, seed: 9)
            // Panels and bias 64-byte aligned, as in the weight arena (the kernel's aligned loads).
            let panels = UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer.allocate(
                byteCount: enk_packed_count(n, k) * 4, alignment: 64).bindMemory(to: Float.self, capacity: enk_packed_count(n, k)),
                count: enk_packed_count(n, k))
            let bias = UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer.allocate(byteCount: (n + 15) / 16 * 64, alignment: 64)
                .bindMemory(to: Float.self, capacity: (n + 15) / 16 * 16), count: (n + 15) / 16 * 16)
            defer { panels.deallocate(); bias.deallocate() }
            c.w.withUnsafeBufferPointer { enk_pack($0.baseAddress!, n, k, panels.baseAddress!) }
            _ = bias.initialize(from: c.b + [Float](repeating: 0, count: bias.count - n))
            for (code, e) in Self.epilogues.enumerated() {
                for rows in [1, 6, 11, 32, 45] {
                    func run(_ kernel: (UnsafePointer<enk_linear>, Int32, Int32) -> Void) -> [Float] {
                        var y = Array(c.residual.prefix(rows * n))
                        c.x.withUnsafeBufferPointer { x in
                            y.withUnsafeMutableBufferPointer { y in
                                var job = enk_linear(x: x.baseAddress!, panels: panels.baseAddress!, bias: bias.baseAddress!,
                                                     y: y.baseAddress!, rows: Int32(rows), n: Int32(n), k: Int32(k),
                                                     epilogue: Int32(code))
                                for share in Int32(0)..<3 { kernel(&job, share, 3) }
                            }
                        }
                        return y
                    }
                    let fast = run { enk_linear_share($0, $1, $2) }, portable = run { enk_linear_share_generic($0, $1, $2) }
                    Self.check(c, e, rows: rows, fast, tolerance: 1e-6, "kernel \(String(cString: enk_kernel_name()))")
                    Self.check(c, e, rows: rows, portable, tolerance: 1e-6, "portable kernel")
                }
            }
        }
    }
}
