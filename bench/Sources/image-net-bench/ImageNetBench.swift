import BenchSupport
import EmbedNN

/// `image-net-bench`: the embedd side of bench/image-net — EmbedNN's ResNet alone (no decoding
/// or pre-processing), timed on random normalised pixels.
///
///     image-net-bench --model DIR [--precision fp32|bf16] [--threads 2] [--batches 1,8,32]
///                     [--seconds 4] [--size 224] [--max-batch N (ImageEmbedder.Options.maxBatch)]
///
/// Prints one JSON line per batch size: {"engine", "batch", "img_per_s", "p50_ms", "p99_ms",
/// "gflop_per_image"}, and the convolution implementations oneDNN chose on stderr.
enum ImageNetBench {
    static let tool = BenchTool(name: "image-net-bench")

    static func main() {
        do { try run(tool.options()) } catch { tool.fail("\(error)") }
    }

    static func fail(_ message: String) -> Never { tool.fail(message) }
    static func print(_ s: String, error: Bool = false) { tool.print(s, error: error) }
    static func now() -> Double { BenchTool.now() }

    static func run(_ o: [String: String]) throws {
        guard let folder = o["model"] else { fail("--model DIR is required") }
        var options = ImageEmbedder.Options()
        options.precision = Precision(rawValue: o["precision"] ?? "fp32") ?? .fp32
        options.threads = Int(o["threads"] ?? "2") ?? 2
        options.maxBatch = Int(o["max-batch"] ?? "") ?? options.maxBatch
        let size = Int(o["size"] ?? "224") ?? 224
        let seconds = Double(o["seconds"] ?? "4") ?? 4
        let batches = (o["batches"] ?? "1,8,32").split(separator: ",").compactMap { Int($0) }
        let t0 = now()
        let embedder = try ImageEmbedder(folder: folder, options: options)
        let loaded = now() - t0
        let t1 = now()
        try embedder.prepare(batchSizes: 1...1, height: size, width: size)
        print("loaded in \(Int(loaded * 1000)) ms, first plan \(Int((now() - t1) * 1000)) ms; precision \(embedder.effectivePrecision.rawValue) (\(Precision.cpuDescription)); convolutions: "
              + Dictionary(grouping: embedder.network.implementations, by: { $0 }).map { "\($0.key) ×\($0.value.count)" }.sorted().joined(separator: ", "),
              error: true)
        let flops = embedder.network.flops(height: size, width: size)
        let engine = "embedd-" + embedder.effectivePrecision.rawValue
        let largest = batches.max() ?? 1
        var seed: UInt32 = 1
        let pixels = (0..<(largest * 3 * size * size)).map { _ -> Float in
            seed = seed &* 1664525 &+ 1013904223
            return Float(Int(seed >> 8) % 4096) / 1000 - 2
        }
        var out = [Float](repeating: 0, count: largest * embedder.dimension)
        try pixels.withUnsafeBufferPointer { p in
            try out.withUnsafeMutableBufferPointer { q in
                for b in batches {
                    try embedder.prepare(batchSizes: b...b, height: size, width: size)
                    let t = try BenchTool.time(seconds: seconds) {
                        try embedder.embed(pixels: p.baseAddress!, count: b, height: size, width: size, into: q.baseAddress!)
                    }
                    let rate = Double(b) * t.runsPerSecond
                    print(#"{"engine": "\#(engine)", "batch": \#(b), "img_per_s": \#(rate), "p50_ms": \#(t.milliseconds(0.5)), "p99_ms": \#(t.milliseconds(0.99)), "gflop_per_image": \#(flops / 1e9)}"#)
                }
            }
        }
    }
}
