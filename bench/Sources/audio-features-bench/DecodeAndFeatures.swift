import BenchSupport
import EmbedAudio
import EmbedAV
import EmbedSys

/// `audio-features-bench --files LIST`: the embedd side of bench/audio's "decode + features"
/// part — real encoded files through EmbedAV (decode, mean down-mix, resample to 16 kHz) and
/// the first 30 s of each through EmbedAudio's log-mel front end, timed apart, on one thread.
///
///     audio-features-bench --files LIST [--config preprocessor_config.json] [--seconds 4]
///
/// LIST names one file a line (read into memory before timing: the daemon gets bytes too). The
/// files are grouped by extension; per group, decoding runs round-robin over its files for
/// `seconds`. Features run round-robin over the decoded samples of the first group. Prints one
/// JSON line per group and stage: {"engine": "embedd", "stage": "decode"|"features", "format",
/// "files", "audio_s" (mean seconds per file), "runs", "ms_p50", "ms_min", "ms_mean"}.
enum DecodeAndFeatures {
    static func run(_ opts: [String: String], tool: BenchTool, extractor: WhisperFeatureExtractor) throws {
        guard let list = opts["files"] else { tool.fail("--files LIST is required") }
        let seconds = Double(opts["seconds"] ?? "4") ?? 4
        let paths = String(decoding: try FileSystem.readFile(list), as: UTF8.self).split(separator: "\n").map(String.init)
        guard !paths.isEmpty else { tool.fail("\(list) names no files") }
        // Extension → files' bytes, in first-seen order.
        var formats: [String] = []
        var groups: [String: [[UInt8]]] = [:]
        for p in paths {
            let ext = String(p.split(separator: ".").last ?? "")
            if groups[ext] == nil { formats.append(ext) }
            groups[ext, default: []].append(try FileSystem.readFile(p))
        }
        var featureInputs: [[Float]] = []
        for format in formats {
            let files = groups[format]!
            let decoded = try files.map { try AudioDecoder.decode(bytes: $0, targetRate: extractor.config.samplingRate) }
            var k = 0
            let timing = try BenchTool.time(seconds: seconds) {
                _ = try AudioDecoder.decode(bytes: files[k % files.count], targetRate: extractor.config.samplingRate)
                k += 1
            }
            let audio = decoded.map(\.seconds).reduce(0, +) / Double(decoded.count)
            emit(tool, stage: "decode", format: "\(format) (\(decoded[0].codec), \(decoded[0].sourceSampleRate) Hz × \(decoded[0].sourceChannels))",
                 files: files.count, audio: audio, timing)
            if featureInputs.isEmpty { featureInputs = decoded.map { Array($0.samples.prefix(extractor.config.sampleCount)) } }
        }
        var out = [Float](repeating: 0, count: extractor.outputCount)
        var k = 0
        let timing = try out.withUnsafeMutableBufferPointer { o in
            try BenchTool.time(seconds: seconds) {
                try featureInputs[k % featureInputs.count].withUnsafeBufferPointer { s in try extractor.features(samples: s, into: o) }
                k += 1
            }
        }
        let audio = Double(featureInputs.map(\.count).reduce(0, +)) / Double(featureInputs.count) / Double(extractor.config.samplingRate)
        emit(tool, stage: "features", format: "log-mel \(extractor.melCount)×\(extractor.frameCount)", files: featureInputs.count,
             audio: audio, timing)
    }

    static func emit(_ tool: BenchTool, stage: String, format: String, files: Int, audio: Double, _ t: BenchTool.Timing) {
        let mean = t.total / Double(t.latencies.count) * 1000
        tool.print(#"{"engine": "embedd", "stage": "\#(stage)", "format": "\#(format)", "files": \#(files), "audio_s": \#(audio), "runs": \#(t.latencies.count), "ms_p50": \#(t.milliseconds(0.5)), "ms_min": \#(t.latencies[0] * 1000), "ms_mean": \#(mean)}"#)
    }
}
