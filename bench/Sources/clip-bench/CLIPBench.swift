import BenchSupport
import EmbedNN

/// `clip-bench`: the embedd side of bench/clip — EmbedNN's CLIP towers alone (no decoding,
/// pre-processing or tokenizing), timed on random normalised pixels and query-length token ids.
///
///     clip-bench --model DIR [--precision fp32|bf16] [--threads 2] [--batches 1,16]
///                [--seconds 4] [--towers image,text] [--tokens 10]
///
/// Prints one JSON line per tower and batch size: {"engine", "tower", "batch", "per_s",
/// "p50_ms", "p99_ms", "tokens", "gflop_per_item"} (2 FLOP per multiply-add).
enum CLIPBench {
    static let tool = BenchTool(name: "clip-bench")

    static func main() {
        do { try run(tool.options()) } catch { tool.fail("\(error)") }
    }

    static func fail(_ message: String) -> Never { tool.fail(message) }
    static func print(_ s: String, error: Bool = false) { tool.print(s, error: error) }
    static func now() -> Double { BenchTool.now() }

    /// FLOP of one tower's forward for one item of `tokens` tokens (matmuls and attention).
    static func flops(_ t: CLIPConfig.Tower, tokens n: Int, extra: Int) -> Double {
        let h = Double(t.hiddenSize), i = Double(t.intermediateSize), n = Double(n)
        let perLayer = n * (4 * h * h + 2 * h * i) + 2 * n * n * h
        return 2 * (Double(t.layers) * perLayer + Double(extra) + h * Double(t.projectionSize))
    }

    /// Times `body` (one batch) for `seconds`; prints one JSON line.
    static func measure(engine: String, tower: String, batch: Int, seconds: Double, tokens: Int, gflop: Double,
                        _ body: () throws -> Void) rethrows {
        let t = try BenchTool.time(seconds: seconds, body)
        let rate = Double(batch) * t.runsPerSecond
        print(#"{"engine": "\#(engine)", "tower": "\#(tower)", "batch": \#(batch), "per_s": \#(rate), "p50_ms": \#(t.milliseconds(0.5)), "p99_ms": \#(t.milliseconds(0.99)), "tokens": \#(tokens), "gflop_per_item": \#(gflop)}"#)
    }

    static func run(_ o: [String: String]) throws {
        guard let folder = o["model"] else { fail("--model DIR is required") }
        var options = CLIPEmbedder.Options()
        options.precision = Precision(rawValue: o["precision"] ?? "fp32") ?? .fp32
        options.threads = Int(o["threads"] ?? "2") ?? 2
        let seconds = Double(o["seconds"] ?? "4") ?? 4
        let batches = (o["batches"] ?? "1,16").split(separator: ",").compactMap { Int($0) }
        let towers = Set((o["towers"] ?? "image,text").split(separator: ",").map(String.init))
        let textTokens = Int(o["tokens"] ?? "10") ?? 10
        let largest = batches.max() ?? 1
        options.maxBatch = max(options.maxBatch, largest)
        options.maxTextBatch = max(options.maxTextBatch, largest)
        let t0 = now()
        let e = try CLIPEmbedder(folder: folder, options: options)
        let loaded = now() - t0
        let t1 = now()
        try e.prepare(images: 1...1)
        print("loaded in \(Int(loaded * 1000)) ms, first plan \(Int((now() - t1) * 1000)) ms; precision \(e.effectivePrecision.rawValue) (\(Precision.cpuDescription))", error: true)
        let engine = "embedd-" + e.effectivePrecision.rawValue
        let c = e.config
        var seed: UInt32 = 1
        func random() -> UInt32 { seed = seed &* 1664525 &+ 1013904223; return seed >> 8 }
        if towers.contains("image") {
            let per = 3 * e.imageSize * e.imageSize
            let pixels = (0..<(largest * per)).map { _ in Float(Int(random()) % 4096) / 1000 - 2 }
            var out = [Float](repeating: 0, count: largest * e.dimension)
            let patch = c.patchCount * 3 * c.patchSize * c.patchSize * c.vision.hiddenSize
            let gflop = flops(c.vision, tokens: c.patchCount + 1, extra: patch) / 1e9
            try pixels.withUnsafeBufferPointer { p in
                try out.withUnsafeMutableBufferPointer { q in
                    for b in batches {
                        try e.prepare(images: b...b)
                        try measure(engine: engine, tower: "image", batch: b, seconds: seconds, tokens: c.patchCount + 1, gflop: gflop) {
                            try e.embed(pixels: p.baseAddress!, count: b, into: q.baseAddress!)
                        }
                    }
                }
            }
        }
        if towers.contains("text") {
            let ids: [[Int32]] = (0..<largest).map { _ in
                [49406] + (0..<(textTokens - 2)).map { _ in Int32(random() % 40000) + 300 } + [49407]
            }
            let gflop = flops(c.text, tokens: textTokens, extra: 0) / 1e9
            var out = [Float](repeating: 0, count: largest * e.dimension)
            try out.withUnsafeMutableBufferPointer { q in
                for b in batches {
                    let batch = Array(ids.prefix(b))
                    try measure(engine: engine, tower: "text", batch: b, seconds: seconds, tokens: textTokens, gflop: gflop) {
                        try e.embed(tokenIDs: batch, into: q.baseAddress!)
                    }
                }
            }
        }
    }
}
