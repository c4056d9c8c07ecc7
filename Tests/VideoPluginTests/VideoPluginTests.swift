import EmbedJSON
import EmbedPluginHost
import EmbedSys
import PluginTestSupport
import Testing

/// The video plugin through the real plugin host, composing the real CLIP and audio plugins with
/// the tiny seeded models (Tests/Fixtures/clip/clip-tiny-gelu, Tests/Fixtures/audio/whisper-tiny),
/// checked against tools/make-golden-video.py's golden file: per video, the mean of the 16
/// sampled frames' normalised CLIP vectors (transformers, the Pillow processor) and the sound
/// track's Whisper vector — Debian's python3-imageio videos and the committed 2-s clips of every
/// codec (H.264, H.265, VP9, AV1, MPEG-4, MJPEG; MP4, MKV, WebM, AVI, MOV).
@Suite(.serialized) struct VideoPluginTests {
    static let repo = PluginTestSupport.repo
    static let golden = repo + "/Tests/Fixtures/video/golden-clip-tiny-gelu.json"

    struct Video {
        let file: String
        let sha256: String
        let vector: [Float]
        let sound: [Float]?
        let frameTimes: [Double]
    }

    static func videos() throws -> [Video] {
        let root = try JSONValue.parse(try FileSystem.readFile(golden))
        return (root["videos"]?.array ?? []).map { v in
            let path = v["file"]?.string ?? ""
            return Video(file: path.hasPrefix("/") ? path : repo + "/" + path, sha256: v["sha256"]?.string ?? "",
                         vector: (v["vector"]?.array ?? []).compactMap { $0.double.map(Float.init) },
                         sound: v["sound"]?["vector"]?.array.map { $0.compactMap { $0.double.map(Float.init) } },
                         frameTimes: (v["frames"]?.array ?? []).compactMap { $0["t_us"]?.double.map { $0 / 1e6 } })
        }
    }

    /// A host with clip, whisper and the video model composing them, registered as the daemon does.
    static func host(videoOptions: [String: String] = [:]) throws -> PluginHost {
        let host = PluginHost(pluginsDirectory: nil, log: { _, _ in })
        try host.loadModel(ModelSpec(name: "clip", plugin: PluginTestSupport.plugin("libembedd-clip.so"),
                                     modelDirectory: repo + "/Tests/Fixtures/clip/clip-tiny-gelu", options: [:]))
        try host.loadModel(ModelSpec(name: "whisper", plugin: PluginTestSupport.plugin("libembedd-audio.so"),
                                     modelDirectory: repo + "/Tests/Fixtures/audio/whisper-tiny", options: ["precision": "fp32"]))
        var options = ["frames_model": "clip", "audio_model": "whisper"]
        options.merge(videoOptions) { _, b in b }
        try host.loadModel(ModelSpec(name: "video", plugin: PluginTestSupport.plugin("libembedd-video.so"),
                                     modelDirectory: repo + "/Tests/Fixtures/clip/clip-tiny-gelu", options: options))
        return host
    }

    static func open(_ path: String) throws -> OpenFile {
        let fd = try FileDescriptor.open(path, .readOnly)
        return OpenFile(owning: fd, size: try fd.fileSize())
    }

    static func mime(_ path: String) -> String {
        switch path.split(separator: ".").last ?? "" {
        case "mkv": "video/x-matroska"
        case "webm": "video/webm"
        case "avi": "video/x-msvideo"
        case "mov": "video/quicktime"
        default: "video/mp4"
        }
    }

    @Test func theVideoModelJoinsItsFramesModelsSpace() throws {
        let host = try Self.host()
        let clip = try #require(host.model(named: "clip")), video = try #require(host.model(named: "video"))
        #expect(video.info.embeddingSpace == clip.info.embeddingSpace && video.info.dimension == clip.info.dimension)
        #expect(video.info.inputKinds.contains(.file) && video.info.mimeTypes.contains("video/mp4") && video.info.segmentSeconds == 10)
        host.shutdown()
    }

    @Test func videoVectorsEqualTheReferenceFromTheSameFrames() throws {
        let videos = try Self.videos()
        #expect(videos.count >= 10)
        let host = try Self.host()
        var worst = 1.0
        for v in videos {
            guard FileSystem.exists(v.file) else {
                Issue.record("\(v.file) is missing (python3-imageio: tools/install-deps installs it)")
                continue
            }
            // As an open file (the daemon's way) and as bytes: the same vector.
            let batch = try host.embed(model: "video", inputs: [.file(try Self.open(v.file), mimeType: Self.mime(v.file)),
                                                                .encoded(bytes: try FileSystem.readFile(v.file, limit: 1 << 26), mimeType: Self.mime(v.file))])
            #expect(batch.failures[0] == nil && batch.failures[1] == nil, "\(v.file): \(batch.failures)")
            let cos = PluginTestSupport.cosine(batch.vector(at: 0), v.vector)
            worst = min(worst, cos)
            #expect(cos >= 0.9999, "\(v.file): cosine \(cos) to the reference")
            #expect(batch.vector(at: 0) == batch.vector(at: 1), "\(v.file): the open file and the bytes differ")
            // The sound track: the audio model's vector of the same file, as the golden's.
            let sound = try host.embed(model: "whisper", inputs: [.encoded(bytes: try FileSystem.readFile(v.file, limit: 1 << 26), mimeType: Self.mime(v.file))])
            if let expected = v.sound {
                #expect(sound.failures[0] == nil, "\(v.file): \(String(describing: sound.failures[0]))")
                let c = PluginTestSupport.cosine(sound.vector(at: 0), expected)
                #expect(c >= 0.9999, "\(v.file): sound cosine \(c)")
            } else {
                #expect(sound.failures[0]?.code == .unsupportedInput && sound.failures[0]?.message.hasPrefix("no sound track") == true,
                        "\(v.file): \(String(describing: sound.failures[0]))")
            }
        }
        print("video golden: \(videos.count) videos, worst cosine \(worst)")
        host.shutdown()
    }

    @Test func segmentsCoverTheVideoInTenSecondWindows() throws {
        let cockatoo = "/usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4"
        guard FileSystem.exists(cockatoo) else {
            Issue.record("needs python3-imageio (tools/install-deps installs it)")
            return
        }
        let host = try Self.host()
        let batch = try host.embed(model: "video", inputs: [.file(try Self.open(cockatoo), mimeType: "video/mp4")], segments: true)
        #expect(batch.failures[0] == nil)
        let segments = batch.segments[0]
        // 14 s: [0, 10) and [10, 14).
        #expect(segments.map(\.start) == [0, 10] && abs((segments.last?.end ?? 0) - 14) < 0.01, "\(segments.map { ($0.start, $0.end) })")
        for s in segments { #expect(abs(PluginTestSupport.cosine(s.vector, s.vector) - 1) < 1e-6 && s.vector.count == batch.dimension) }
        // The summary is the default sampling's, whether segments are asked for or not.
        let plain = try host.embed(model: "video", inputs: [.file(try Self.open(cockatoo), mimeType: "video/mp4")])
        #expect(plain.vector(at: 0) == batch.vector(at: 0))
        host.shutdown()
    }

    @Test func badVideosFailAloneNamingTheProblem() throws {
        let host = try Self.host()
        let good = Self.repo + "/Tests/Fixtures/video/clips/h264-aac.mp4"
        let bytes = try FileSystem.readFile(good, limit: 1 << 24)
        let cases: [(String, EmbedInput)] = [
            ("zero-length", .encoded(bytes: [], mimeType: "video/mp4")),
            ("truncated", .encoded(bytes: Array(bytes.prefix(bytes.count / 3)), mimeType: "video/mp4")),
            ("garbage", .encoded(bytes: (0..<30000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 9) }, mimeType: "video/mp4")),
            ("mislabelled", .encoded(bytes: bytes, mimeType: "video/webm")),
        ]
        let batch = try host.embed(model: "video", inputs: [.file(try Self.open(good), mimeType: "video/mp4")] + cases.map(\.1))
        #expect(batch.failures[0] == nil)
        for (k, (name, _)) in cases.enumerated() {
            let f = batch.failures[k + 1]
            #expect(f != nil && (f?.message.count ?? 0) > 15, "\(name): \(String(describing: f))")
        }
        host.shutdown()
    }

    @Test func loadRefusesAMissingOrWrongFramesModel() throws {
        let host = PluginHost(pluginsDirectory: nil, log: { _, _ in })
        let video = PluginTestSupport.plugin("libembedd-video.so")
        let dir = Self.repo + "/Tests/Fixtures/clip/clip-tiny-gelu"
        let missing = #expect(throws: PluginError.self) {
            try host.loadModel(ModelSpec(name: "v", plugin: video, modelDirectory: dir, options: ["frames_model": "clip"]))
        }
        #expect(missing?.message.contains("frames_model 'clip' is not loaded") == true, "\(String(describing: missing))")
        let unnamed = #expect(throws: PluginError.self) {
            try host.loadModel(ModelSpec(name: "v", plugin: video, modelDirectory: dir, options: [:]))
        }
        #expect(unnamed?.message.contains("frames_model is required") == true)
        try host.loadModel(ModelSpec(name: "whisper", plugin: PluginTestSupport.plugin("libembedd-audio.so"),
                                     modelDirectory: Self.repo + "/Tests/Fixtures/audio/whisper-tiny", options: ["precision": "fp32"]))
        let wrong = #expect(throws: PluginError.self) {
            try host.loadModel(ModelSpec(name: "v", plugin: video, modelDirectory: dir, options: ["frames_model": "whisper"]))
        }
        #expect(wrong?.message.contains("does not take RGB pixels") == true, "\(String(describing: wrong))")
        host.shutdown()
    }
}
