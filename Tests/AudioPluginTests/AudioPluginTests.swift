import EmbedJSON
import EmbedPluginCheck
import EmbedPluginHost
import EmbedSys
import Foundation
import PluginTestSupport
import Testing

/// The real libembedd-audio.so (built next to this test binary) driven through the plugin host:
/// real speech from Debian's pocketsphinx-testdata and codec2-examples, decoded by EmbedAV,
/// turned into log-mel features by EmbedAudio and embedded by EmbedNN's Whisper encoder, against
/// transformers' vectors with the same pooling (tools/make-golden-audio.py vectors): the tiny
/// seeded Whisper always, the real whisper-base when tools/fetch-models has made it.
enum AudioPluginFixtures {
    static var plugin: String { PluginTestSupport.plugin("libembedd-audio.so") }
    static let fixtures = PluginTestSupport.repo + "/Tests/Fixtures/audio"
    static let tiny = fixtures + "/whisper-tiny"
    static let base = PluginTestSupport.modelsDir + "/whisper-base"

    static func load(_ folder: String = tiny, options: [String: String] = ["precision": "fp32"]) throws -> (PluginHost, LoadedModel) {
        try PluginTestSupport.load(plugin: plugin, folder: folder, name: "audio", options: options)
    }

    /// One golden input: how to rebuild it, and transformers' vectors.
    struct GoldenInput {
        let name: String
        let sources: [(path: String, kind: String)]
        let resampled: Bool
        let samples: Int
        let vector: [Float]
        let windows: [(start: Double, end: Double, vector: [Float])]
    }

    static func golden(_ file: String) throws -> [GoldenInput] {
        let index = try JSONValue.parse(try FileSystem.readFile(file, limit: 1 << 26))
        return (index["inputs"]?.array ?? []).map { i in
            GoldenInput(name: i["name"]?.string ?? "",
                        sources: (i["sources"]?.array ?? []).map { ($0["path"]?.string ?? "", $0["kind"]?.string ?? "") },
                        resampled: !(i["resample"]?.isNull ?? true), samples: i["samples"]?.int ?? 0,
                        vector: (i["vector"]?.array ?? []).compactMap { $0.double.map(Float.init) },
                        windows: (i["windows"]?.array ?? []).map { w in
                            (w["start"]?.double ?? -1, w["end"]?.double ?? -1, (w["vector"]?.array ?? []).compactMap { $0.double.map(Float.init) })
                        })
        }
    }

    /// The input as the plugin gets it: one 16-kHz WAV file as its bytes; several joined as
    /// 16-kHz PCM (s / 32768, what FFmpeg's s16 → float conversion gives); codec2's 8-kHz raw
    /// speech as 8-kHz PCM, which the plugin resamples itself.
    static func input(_ g: GoldenInput) throws -> EmbedInput {
        if g.sources.count == 1, g.sources[0].kind == "wav" {
            return .encoded(bytes: try FileSystem.readFile(g.sources[0].path, limit: 1 << 28), mimeType: "audio/wav")
        }
        var samples: [Float] = []
        var rate = 16000
        for s in g.sources {
            let bytes = try FileSystem.readFile(s.path, limit: 1 << 28)
            let offset = s.kind == "wav" ? 44 : 0  // pocketsphinx's WAVs have the canonical 44-byte header
            if s.kind != "wav" { rate = 8000 }
            samples += stride(from: offset, to: bytes.count - 1, by: 2).map {
                Float(Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8)) / 32768
            }
        }
        return .pcm(samples: samples, sampleRate: rate)
    }
}

@Suite(.serialized) struct AudioPluginTests {
    @Test func exportsOnlyTheEntrySymbol() throws {
        let lib = try DynamicLibrary.open(AudioPluginFixtures.plugin)
        defer { lib.leak() }
        #expect(lib.symbol(named: "embedd_plugin_entry") != nil)
    }

    @Test func passesConformanceKit() throws {
        let report = ConformanceKit.run(pluginPath: AudioPluginFixtures.plugin, modelDirectory: AudioPluginFixtures.tiny,
                                        options: ["precision": "fp32"], concurrencyCalls: 10)
        print(report.renderText())
        #expect(report.passed, "\(report.renderText())")
    }

    @Test func describesItself() throws {
        let (host, m) = try AudioPluginFixtures.load()
        defer { m.dispose(); host.shutdown() }
        let i = m.info
        #expect(i.modalities == .audio && i.dimension == 64 && i.normalized && i.metric == .cosine)
        #expect(i.embeddingSpace == "whisper@" + i.version && i.version.hasPrefix("fnv64:") && i.segmentSeconds == 30)
        #expect(i.inputKinds == [.encoded, .pcmF32, .file] && i.mimeTypes.contains("audio/mpeg") && i.mimeTypes.contains("video/mp4") && i.maxSeconds == 14_400)
    }

    /// Every golden input, with its windows as segments: cosine ≥ 0.9999 (16-kHz input) or
    /// ≥ 0.995 (resampled here and by FFmpeg's command line in the golden script).
    func matchesTransformers(_ folder: String, golden file: String) throws {
        let (host, m) = try AudioPluginFixtures.load(folder)
        defer { m.dispose(); host.shutdown() }
        let golden = try AudioPluginFixtures.golden(file)
        #expect(golden.count >= 5)
        for g in golden {
            let out = try m.embed([try AudioPluginFixtures.input(g)], segments: true)
            if let f = out.failures[0] { Issue.record("\(g.name): \(f)"); continue }
            let bar = g.resampled ? 0.995 : 0.9999
            let c = PluginTestSupport.cosine(out.vector(at: 0), g.vector)
            #expect(c >= bar, "\(g.name): cosine \(c) < \(bar)")
            let segments = out.segments[0]
            #expect(segments.count == g.windows.count, "\(g.name): \(segments.count) segments, golden \(g.windows.count)")
            for (s, w) in zip(segments, g.windows) {
                #expect(abs(s.start - w.start) < 1e-6 && abs(s.end - w.end) < 1e-6, "\(g.name): [\(s.start), \(s.end)) vs [\(w.start), \(w.end))")
                let cw = PluginTestSupport.cosine(s.vector, w.vector)
                #expect(cw >= bar, "\(g.name) window \(w.start): cosine \(cw)")
            }
            print("audio \(URL(fileURLWithPath: folder).lastPathComponent) \(g.name): cosine \(c), \(segments.count) window(s)")
        }
    }

    @Test func tinyWhisperMatchesTransformers() throws {
        try matchesTransformers(AudioPluginFixtures.tiny, golden: AudioPluginFixtures.fixtures + "/whisper-tiny-vectors.json")
    }

    @Test(.enabled(if: FileSystem.exists(AudioPluginFixtures.base + "/model.safetensors"),
                   "models/whisper-base is made by tools/fetch-models"))
    func whisperBaseMatchesTransformers() throws {
        try matchesTransformers(AudioPluginFixtures.base, golden: AudioPluginFixtures.fixtures + "/whisper-base-vectors.json")
    }

    @Test func windowsOverlapWhenAsked() throws {
        let (host, m) = try AudioPluginFixtures.load(options: ["precision": "fp32", "window_overlap": "10"])
        defer { m.dispose(); host.shutdown() }
        let seventy = EmbedInput.pcm(samples: (0..<(16000 * 70)).map { Float(($0 * 7919) % 2000) / 2000 - 0.5 }, sampleRate: 16000)
        let out = try m.embed([seventy], segments: true)
        #expect(out.failures[0] == nil)
        #expect(out.segments[0].map { [$0.start, $0.end] } == [[0, 30], [20, 50], [40, 70]])
    }

    @Test func badInputsFailAloneWithTheirReason() throws {
        let (host, m) = try AudioPluginFixtures.load()
        defer { m.dispose(); host.shutdown() }
        let wav = try FileSystem.readFile("/usr/share/pocketsphinx/test/data/cards/001.wav", limit: 1 << 24)
        var zeroChannels = wav
        zeroChannels[22] = 0; zeroChannels[23] = 0
        var absurdRate = wav
        absurdRate[24] = 0; absurdRate[25] = 0; absurdRate[26] = 0; absurdRate[27] = 0
        let cases: [(String, EmbedInput, String)] = [
            ("zero-length", .encoded(bytes: [], mimeType: "audio/wav"), "empty"),
            ("truncated", .encoded(bytes: Array(wav.prefix(30)), mimeType: "audio/wav"), ""),
            ("zero channels", .encoded(bytes: zeroChannels, mimeType: "audio/wav"), "channel"),
            ("absurd rate", .encoded(bytes: absurdRate, mimeType: "audio/wav"), ""),
            ("mislabelled", .encoded(bytes: wav, mimeType: "audio/mpeg"), "mislabelled"),
            ("pcm channels", .pcm(samples: [0.1, 0.2, 0.3], sampleRate: 16000, channels: 2), ""),
            ("pcm rate", .pcm(samples: [0.1, 0.2], sampleRate: 0), ""),
            ("pcm NaN", .pcm(samples: [0.1, .nan, 0.3], sampleRate: 16000), ""),
        ]
        let good = EmbedInput.encoded(bytes: wav, mimeType: "audio/wav")
        let alone = try m.embed([good]).vector(at: 0)
        for (name, bad, word) in cases {
            let out = try m.embed([good, bad, good])
            let f = try #require(out.failures[1], "\(name): accepted")
            #expect(f.code == .invalidInput || f.code == .tooLarge, "\(name): \(f)")
            #expect(word.isEmpty || f.message.lowercased().contains(word), "\(name): \(f.message)")
            #expect(out.failures[0] == nil && out.failures[2] == nil && out.vector(at: 0) == alone && out.vector(at: 2) == alone, "\(name) leaked")
            print("audio bad input \(name): \(f.message)")
        }
        // Over max_seconds: refused from the header, before decoding it all.
        let (h2, short) = try AudioPluginFixtures.load(options: ["precision": "fp32", "max_seconds": "1"])
        defer { short.dispose(); h2.shutdown() }
        let long = try short.embed([good])
        #expect(long.failures[0]?.code == .tooLarge, "\(String(describing: long.failures[0]))")
    }
}
