import EmbedJSON
import EmbedSys

/// The settings of a Whisper model folder's `preprocessor_config.json`, resolved as `transformers`
/// 5 resolves them for `WhisperFeatureExtractor`: an absent or `null` field takes the class default
/// (80 mel bins, 16 kHz, hop 160, 30-s chunks, a 400-point FFT, padding with 0.0, no dither), and
/// `n_samples` and `nb_max_frames` are derived from the others, as the class's constructor
/// recomputes them whatever the file says. Settings `transformers` accepts but embedd does not
/// implement (dither, left padding, another sampling rate) are refused with an error naming them.
public struct WhisperFeatureConfig: Sendable, Equatable {
    /// `feature_size`: the number of mel bins (80 for Whisper up to large-v2, 128 for large-v3).
    public var featureSize: Int = 80
    /// `sampling_rate` in Hz; embedd supports 16000 only (its decoder resamples to it).
    public var samplingRate: Int = 16000
    /// `hop_length`: samples between the starts of two STFT frames.
    public var hopLength: Int = 160
    /// `chunk_length`: the window every input is padded or trimmed to, in seconds.
    public var chunkLength: Int = 30
    /// `n_fft`: the STFT's frame and FFT length (the Hann window's length).
    public var nFFT: Int = 400
    /// `padding_value`: the sample value short inputs are padded with.
    public var paddingValue: Double = 0
    /// Fields present in the file that the feature extractor does not read (for a log line).
    public var ignoredFields: [String] = []

    /// `n_samples`: samples per window (`chunk_length × sampling_rate`).
    public var sampleCount: Int { chunkLength * samplingRate }
    /// `nb_max_frames`: frames per window (`n_samples / hop_length`), the features' second dimension.
    public var frameCount: Int { sampleCount / hopLength }
    /// `1 + n_fft / 2`: the one-sided spectrum's bins.
    public var frequencyBins: Int { nFFT / 2 + 1 }

    /// The class defaults (what an empty file gives): whisper-tiny … large-v2's front end.
    public init() {}

    /// Upper bounds that keep every product and buffer small (Whisper uses 80/128, 30, 400, 160).
    static let maxFeatureSize = 512, maxChunkLength = 600, maxFFT = 8192

    /// Fields that only label the file or steer other outputs (`transformers` reads them, and
    /// they do not change the features): read for their type, no effect.
    private static let labelFields: [String: Kind] = [
        "feature_extractor_type": .string, "processor_class": .string, "return_attention_mask": .bool,
    ]
    private enum Kind { case string, bool }

    /// Reads `path` (a `preprocessor_config.json`).
    public init(configFile path: String) throws(FeatureError) {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path, limit: 1 << 20) } catch {
            throw .file(path, "cannot read: \(error)")
        }
        guard bytes.count < 1 << 20 else { throw .file(path, "larger than 1 MiB") }
        try self.init(configJSON: bytes, name: path)
    }

    /// Parses the bytes of a `preprocessor_config.json`; `name` starts every error message.
    public init(configJSON bytes: [UInt8], name: String) throws(FeatureError) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes, options: .strict)  // Python's json module is strict too
        } catch {
            let (line, column) = error.location(in: bytes)
            throw .file(name, "invalid JSON at line \(line), column \(column): \(error.message)")
        }
        try self.init(json: json, name: name)
    }

    /// Reads a parsed `preprocessor_config.json`; `name` (the path) starts every error message.
    public init(json: JSONValue, name: String) throws(FeatureError) {
        guard let members = json.members else { throw .file(name, "expected a JSON object, found \(json.typeName)") }
        func fail(_ key: String, _ problem: String) -> FeatureError { .file(name, "\(key): \(problem)") }
        func value(_ key: String) -> JSONValue? {
            guard let v = json[key], !v.isNull else { return nil }
            return v
        }
        func int(_ key: String, _ range: ClosedRange<Int>) throws(FeatureError) -> Int? {
            guard let v = value(key) else { return nil }
            guard let i = v.int else {
                throw fail(key, "expected an integer, found \(v.number.map { "\($0)" } ?? v.typeName)")
            }
            guard range.contains(i) else { throw fail(key, "\(i) is outside \(range.lowerBound)...\(range.upperBound)") }
            return i
        }
        func number(_ key: String) throws(FeatureError) -> Double? {
            guard let v = value(key) else { return nil }
            guard let d = v.double, d.isFinite else { throw fail(key, "expected a finite number, found \(v.typeName)") }
            return d
        }

        if let type = value("feature_extractor_type")?.string, type != "WhisperFeatureExtractor" {
            throw fail("feature_extractor_type", "\"\(type)\" is not WhisperFeatureExtractor")
        }
        for (key, kind) in Self.labelFields {
            guard let v = value(key) else { continue }
            switch kind {
            case .string where v.string == nil: throw fail(key, "expected a string, found \(v.typeName)")
            case .bool where v.bool == nil: throw fail(key, "expected true or false, found \(v.typeName)")
            default: break
            }
        }
        if let v = try int("feature_size", 1...Self.maxFeatureSize) { featureSize = v }
        if let v = try int("sampling_rate", 1...1_000_000) {
            guard v == 16000 else {
                throw fail("sampling_rate", "\(v) Hz is not supported (embedd decodes and resamples audio to 16000 Hz, "
                           + "and Whisper's mel filters stop at 8000 Hz)")
            }
            samplingRate = v
        }
        if let v = try int("chunk_length", 1...Self.maxChunkLength) { chunkLength = v }
        if let v = try int("n_fft", 2...Self.maxFFT) {
            guard RealFFTx4.supports(length: v) else {
                throw fail("n_fft", "\(v) is not supported (it must be even, with n_fft / 2 a product of 2, 3 and 5)")
            }
            nFFT = v
        }
        if let v = try int("hop_length", 1...Self.maxFFT) { hopLength = v }
        if let v = try number("padding_value") { paddingValue = v }
        if let v = try number("dither"), v != 0 {
            throw fail("dither", "\(v) is not supported (dithering adds random noise; embedd's features are deterministic)")
        }
        if let v = value("padding_side") {
            guard let side = v.string else { throw fail("padding_side", "expected a string, found \(v.typeName)") }
            guard side == "right" else { throw fail("padding_side", "\"\(side)\" is not supported (only \"right\")") }
        }
        // transformers' constructor overwrites both with the derived values: only their type is checked.
        _ = try int("n_samples", 0...Int(Int32.max))
        _ = try int("nb_max_frames", 0...Int(Int32.max))
        guard hopLength <= nFFT else {
            throw .file(name, "hop_length \(hopLength) is larger than n_fft \(nFFT) (samples between frames would be skipped)")
        }
        guard sampleCount > nFFT else {
            throw .file(name, "a window of \(sampleCount) samples is not longer than n_fft \(nFFT) (the reflect padding needs it)")
        }
        let known: Set<String> = [
            "feature_size", "sampling_rate", "hop_length", "chunk_length", "n_fft", "padding_value", "dither",
            "padding_side", "n_samples", "nb_max_frames",
        ]
        ignoredFields = members.map(\.0).filter { !known.contains($0) && Self.labelFields[$0] == nil }
    }
}
