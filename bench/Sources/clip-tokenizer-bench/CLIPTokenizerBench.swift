import EmbedJSON
import EmbedNN
import EmbedSys

/// `clip-tokenizer-bench`: EmbedNN's CLIP tokenizer on the golden corpus, one thread — the
/// Swift side of `tools/make-golden-clip-tokens.py bench` (Hugging Face's fast tokenizer).
///
///     clip-tokenizer-bench [FOLDER [TOKENS.jsonl]]   (defaults: Tests/Fixtures/clip/…)
///
/// Prints load time, the first caption's latency (one-time table set-up included), tokens/s
/// over the corpus with a cold and a warm word cache, and the latency of one caption.
enum CLIPTokenizerBench {
    static func main() {
        let args = CommandLine.arguments
        let folder = args.count > 1 ? args[1] : "Tests/Fixtures/clip/vocab"
        let jsonl = args.count > 2 ? args[2] : "Tests/Fixtures/clip/tokens.jsonl"
        do {
            let texts = try FileSystem.readFile(jsonl).split(separator: UInt8(ascii: "\n")).map { line in
                try JSONValue.parse(Array(line))["text"]!.string!
            }
            var t0 = now()
            let cold = try CLIPTokenizer(folder: folder)
            print("load \(folder): \(fixed((now() - t0) * 1e3, 1)) ms")
            t0 = now()
            _ = cold.encode("a photo of a cat sitting on a red sofa", maxLength: 77)
            print(padded("first caption after loading") + " \(fixed((now() - t0) * 1e6, 2)) us")
            t0 = now()
            let total = texts.reduce(0) { $0 + cold.encode($1, maxLength: 77).tokens }
            report("first pass (cold word cache), one call per input", total, texts.count, now() - t0)
            let tok = cold
            var best = Double.infinity
            for _ in 0..<5 {
                t0 = now()
                var n = 0
                for _ in 0..<3 { for t in texts { n += tok.encode(t, maxLength: 77).tokens } }
                precondition(n == 3 * total)
                best = min(best, (now() - t0) / 3)
            }
            report("warm word cache, one call per input", total, texts.count, best)
            let q = "a photo of a cat sitting on a red sofa"
            best = .infinity
            for _ in 0..<5 {
                t0 = now()
                for _ in 0..<20_000 { _ = tok.encode(q, maxLength: 77) }
                best = min(best, (now() - t0) / 20_000)
            }
            print(padded("one caption, encode(text, maxLength: 77)") + " \(fixed(best * 1e6, 2)) us/call")
            print("\(texts.count) inputs, \(total) tokens (with start and end)")
        } catch {
            print("clip-tokenizer-bench: \(error)")
            Environment.exit(1)
        }
    }

    static func now() -> Double { Double(Clock.monotonicNanoseconds()) / 1e9 }

    static func report(_ label: String, _ tokens: Int, _ inputs: Int, _ seconds: Double) {
        print(padded(label) + " \(fixed(Double(tokens) / seconds / 1e6, 2)) M tokens/s  \(fixed(seconds / Double(inputs) * 1e6, 2)) us/input")
    }

    static func padded(_ s: String) -> String { s + String(repeating: " ", count: max(0, 56 - s.count)) }

    /// `x` with `digits` decimals (no Foundation here).
    static func fixed(_ x: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let n = Int((x * scale).rounded())
        let whole = String(n / Int(scale))
        var frac = String(n % Int(scale))
        while frac.count < digits { frac = "0" + frac }
        return digits == 0 ? whole : whole + "." + frac
    }
}
