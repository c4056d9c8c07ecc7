import BenchSupport
import EmbedNN
import EmbedSys

/// `whisper-bench`: the embedd side of the Whisper encoder benchmark — EmbedNN's encoder and
/// pooling alone (no decoding or log-mel front end), on the synthetic log-mel features of
/// tools/make-golden-whisper.py (every engine gets the same ones; the encoder's work does not
/// depend on the values), or on real ones read from `--features FILE`.
///
///     whisper-bench --model DIR [--precision fp32|bf16] [--threads 2] [--batches 1,8] [--runs 3]
///                   [--features FILE.f32] [--max-batch N]
///
/// FILE.f32 holds float32 little-endian log-mel windows (mel bins × frames each, row-major, as
/// `WhisperFeatureExtractor` returns them), one or more; batch b takes windows 0, 1, … cyclically
/// (bench/audio writes real speech there, so every engine encodes the same recordings).
///
/// Prints one JSON line per batch size: {"engine", "batch", "best_ms", "median_ms",
/// "windows_per_s" (from the best run), "runs", "gflop_per_window"} (2 FLOP per multiply-add).
enum WhisperBench {
    static let tool = BenchTool(name: "whisper-bench")

    static func main() {
        do { try run(tool.options()) } catch { tool.fail("\(error)") }
    }

    /// FLOP of one 30-s window: the two convolutions, and per layer the projections, the
    /// feed-forward and attention's two products.
    static func flops(_ c: WhisperConfig) -> Double {
        let (d, f, m) = (Double(c.hiddenSize), Double(c.intermediateSize), Double(c.melBins))
        let (t, p) = (Double(c.inputFrames), Double(c.maxSourcePositions))
        let convs = t * 3 * m * d + p * 3 * d * d
        let perLayer = p * (4 * d * d + 2 * d * f) + 2 * p * p * d
        return 2 * (convs + Double(c.layers) * perLayer)
    }

    /// make-golden-whisper.py's synthetic features for one window.
    static func features(melBins: Int, frames: Int) -> [Float] {
        var x = [Float](repeating: 0, count: melBins * frames)
        for m in 0..<melBins {
            for t in 0..<frames {
                let (dm, dt) = (Double(m), Double(t))
                x[m * frames + t] = Float(0.6 * FloatMath.sin(0.013 * (dt + 1) * (dm + 1)) + 0.25 * FloatMath.cos(0.7 * dm + 0.002 * dt) - 0.1)
            }
        }
        return x
    }

    static func run(_ o: [String: String]) throws {
        guard let folder = o["model"] else { tool.fail("--model DIR is required") }
        var options = WhisperEmbedder.Options()
        options.precision = Precision(rawValue: o["precision"] ?? "fp32") ?? .fp32
        options.threads = Int(o["threads"] ?? "2") ?? 2
        let batches = (o["batches"] ?? "1,8").split(separator: ",").compactMap { Int($0) }
        let runs = max(1, Int(o["runs"] ?? "3") ?? 3)
        let largest = batches.max() ?? 1
        // Windows per forward pass (the embedder splits larger calls): default, the embedder's.
        if let m = o["max-batch"].flatMap({ Int($0) }) { options.maxBatch = m }
        let t0 = BenchTool.now()
        let e = try WhisperEmbedder(folder: folder, options: options)
        let loaded = BenchTool.now() - t0
        let t1 = BenchTool.now()
        try e.prepare(batch: 1...1)
        tool.print("loaded in \(Int(loaded * 1000)) ms, first plan \(Int((BenchTool.now() - t1) * 1000)) ms; precision \(e.effectivePrecision.rawValue) (\(Precision.cpuDescription))", error: true)
        let perWindow = e.melBins * e.inputFrames
        let windows: [[Float]]
        if let path = o["features"] {
            let bytes = try FileSystem.readFile(path, limit: 1 << 32)
            guard !bytes.isEmpty, bytes.count % (4 * perWindow) == 0 else {
                tool.fail("\(path): \(bytes.count) bytes is not a whole number of \(e.melBins)×\(e.inputFrames) float32 windows")
            }
            let values = bytes.withUnsafeBytes { raw in
                (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            windows = stride(from: 0, to: values.count, by: perWindow).map { Array(values[$0 ..< $0 + perWindow]) }
        } else {
            windows = [features(melBins: e.melBins, frames: e.inputFrames)]
        }
        let all = (0..<largest).flatMap { windows[$0 % windows.count] }
        var out = [Float](repeating: 0, count: largest * e.dimension)
        let gflop = flops(e.config) / 1e9
        let engine = "embedd-" + e.effectivePrecision.rawValue
        try all.withUnsafeBufferPointer { f in
            try out.withUnsafeMutableBufferPointer { v in
                for b in batches {
                    try e.prepare(batch: b...b)
                    let frames = [Int](repeating: e.maxFrames, count: b)
                    try e.embed(features: f.baseAddress!, count: b, frames: frames, into: v.baseAddress!)  // warm-up
                    var times: [Double] = []
                    for _ in 0..<runs {
                        let s = BenchTool.now()
                        try e.embed(features: f.baseAddress!, count: b, frames: frames, into: v.baseAddress!)
                        times.append(BenchTool.now() - s)
                    }
                    times.sort()
                    let best = times[0]
                    tool.print(#"{"engine": "\#(engine)", "batch": \#(b), "best_ms": \#(best * 1000), "median_ms": \#(times[runs / 2] * 1000), "windows_per_s": \#(Double(b) / best), "runs": \#(runs), "gflop_per_window": \#(gflop)}"#)
                }
            }
        }
    }
}
