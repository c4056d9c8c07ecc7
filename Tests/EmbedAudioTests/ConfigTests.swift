@testable import EmbedAudio
import Testing

/// `preprocessor_config.json` as transformers reads it: defaults, the derived sizes, and a clear
/// error for each value embedd refuses.
struct ConfigTests {
    /// whisper-tiny's file as the Hugging Face hub ships it.
    static let tiny = #"{"chunk_length": 30, "feature_extractor_type": "WhisperFeatureExtractor", "feature_size": 80, "hop_length": 160, "n_fft": 400, "n_samples": 480000, "nb_max_frames": 3000, "padding_side": "right", "padding_value": 0.0, "processor_class": "WhisperProcessor", "return_attention_mask": false, "sampling_rate": 16000}"#

    private func config(_ json: String) throws(FeatureError) -> WhisperFeatureConfig {
        try WhisperFeatureConfig(configJSON: Array(json.utf8), name: "/m/preprocessor_config.json")
    }

    private func error(_ json: String) -> String? {
        do { _ = try config(json); return nil } catch { return error.message }
    }

    @Test func hubFileAndDefaults() throws {
        let c = try config(Self.tiny)
        #expect(c == WhisperFeatureConfig())
        #expect(c.sampleCount == 480000 && c.frameCount == 3000 && c.frequencyBins == 201)
        // An empty file, or nulls, take the class defaults.
        #expect(try config("{}") == WhisperFeatureConfig())
        #expect(try config(#"{"feature_size": null, "dither": 0}"#) == WhisperFeatureConfig())
        // large-v3.
        let v3 = try config(Self.tiny.replacingFirst(#""feature_size": 80"#, #""feature_size": 128"#))
        #expect(v3.featureSize == 128 && WhisperFeatureExtractor(config: v3).outputCount == 128 * 3000)
        // Fields the extractor does not read are listed.
        #expect(try config(#"{"do_normalize": true, "chunk_length": 10}"#).ignoredFields == ["do_normalize"])
        #expect(try config(#"{"chunk_length": 10}"#).frameCount == 1000)
    }

    /// transformers' constructor recomputes n_samples and nb_max_frames; so does embedd.
    @Test func derivedSizesComeFromChunkLength() throws {
        let c = try config(#"{"chunk_length": 20, "n_samples": 480000, "nb_max_frames": 3000}"#)
        #expect(c.sampleCount == 320000 && c.frameCount == 2000)
    }

    @Test(arguments: [
        (#"{"feature_size": 80,"#, "invalid JSON at line 1"),
        ("[80]", "expected a JSON object, found an array"),
        (#"{"dither": 1e-5}"#, "dither: 1e-05 is not supported"),
        (#"{"sampling_rate": 8000}"#, "sampling_rate: 8000 Hz is not supported"),
        (#"{"n_fft": 401}"#, "n_fft: 401 is not supported"),
        (#"{"n_fft": 14}"#, "n_fft: 14 is not supported"),
        (#"{"feature_size": 0}"#, "feature_size: 0 is outside 1...512"),
        (#"{"feature_size": 80.5}"#, "feature_size: expected an integer, found 80.5"),
        (#"{"hop_length": "160"}"#, "hop_length: expected an integer, found a string"),
        (#"{"hop_length": 500}"#, "hop_length 500 is larger than n_fft 400"),
        (#"{"chunk_length": 0}"#, "chunk_length: 0 is outside 1...600"),
        (#"{"padding_value": "zero"}"#, "padding_value: expected a finite number, found a string"),
        (#"{"padding_side": "left"}"#, #"padding_side: "left" is not supported"#),
        (#"{"feature_extractor_type": "Wav2Vec2FeatureExtractor"}"#, #""Wav2Vec2FeatureExtractor" is not WhisperFeatureExtractor"#),
        (#"{"return_attention_mask": "no"}"#, "return_attention_mask: expected true or false"),
        (#"{"n_samples": 1.5}"#, "n_samples: expected an integer"),
    ])
    func refused(_ json: String, problem: String) {
        let message = error(json)
        #expect(message?.hasPrefix("/m/preprocessor_config.json: ") == true, "\(message ?? "no error")")
        #expect(message?.contains(problem) == true, "\(message ?? "no error") should say \(problem)")
    }

    @Test func unreadableFileIsNamed() {
        do { _ = try WhisperFeatureExtractor(configFile: "/nonexistent/preprocessor_config.json"); Issue.record("no error") } catch {
            #expect(error.message.hasPrefix("/nonexistent/preprocessor_config.json: cannot read"))
        }
    }
}

extension String {
    /// The string with the first occurrence of `a` replaced by `b` (no Foundation in these tests).
    func replacingFirst(_ a: String, _ b: String) -> String {
        let s = Array(self.utf8), p = Array(a.utf8)
        guard p.count <= s.count else { return self }
        for i in 0...(s.count - p.count) where Array(s[i..<(i + p.count)]) == p {
            return String(decoding: s[..<i] + Array(b.utf8) + s[(i + p.count)...], as: UTF8.self)
        }
        return self
    }
}
