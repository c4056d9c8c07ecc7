import BenchSupport
import EmbedAudio
import EmbedSys

/// `audio-features-bench`: the embedd side of bench/audio_features_bench.py — Whisper log-mel
/// features (EmbedAudio) of one window of samples already at 16 kHz, on one thread.
///
///     audio-features-bench --samples FILE.f32 [--config preprocessor_config.json] [--seconds 4]
///     audio-features-bench --files LIST [--config …] [--seconds 4]     (see DecodeAndFeatures)
///
/// FILE.f32 holds float32 little-endian mono samples (the first 30 s are used). Prints one JSON
/// line {"engine", "samples", "runs", "ms_p50", "ms_min", "ms_mean"}.
enum AudioFeaturesBench {
    static let tool = BenchTool(name: "audio-features-bench")

    static func main() {
        let opts = tool.options()
        guard let path = opts["samples"] ?? opts["files"] else {
            tool.fail("usage: audio-features-bench --samples FILE.f32 | --files LIST [--config FILE] [--seconds S]")
        }
        do {
            let extractor = try opts["config"].map { (p) throws(FeatureError) in try WhisperFeatureExtractor(configFile: p) }
                ?? WhisperFeatureExtractor(config: WhisperFeatureConfig())
            if opts["files"] != nil { return try DecodeAndFeatures.run(opts, tool: tool, extractor: extractor) }
            let bytes = try FileSystem.readFile(path, limit: 1 << 30)
            let samples = bytes.withUnsafeBytes { raw in
                (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            var out = [Float](repeating: 0, count: extractor.outputCount)
            let timing = try samples.withUnsafeBufferPointer { s in
                try out.withUnsafeMutableBufferPointer { o in
                    try BenchTool.time(seconds: Double(opts["seconds"] ?? "4") ?? 4) { try extractor.features(samples: s, into: o) }
                }
            }
            let mean = timing.total / Double(timing.latencies.count) * 1000
            tool.print(#"{"engine": "embedd", "samples": \#(samples.count), "runs": \#(timing.latencies.count), "ms_p50": \#(timing.milliseconds(0.5)), "ms_min": \#(timing.latencies[0] * 1000), "ms_mean": \#(mean)}"#)
        } catch {
            tool.fail("\(error)")
        }
    }
}
