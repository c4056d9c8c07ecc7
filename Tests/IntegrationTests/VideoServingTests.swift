import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// Video end to end (issue 22): the real daemon with the real clip, audio and video plugins and
/// the tiny seeded models (Tests/Fixtures/clip/clip-tiny-gelu, Tests/Fixtures/audio/whisper-tiny),
/// over the socket. A collection bound to CLIP takes videos beside pictures and texts (each
/// routed to the model of its space that reads it); their sound goes to `NAME.sound`, bound to
/// Whisper, under the same keys. Stored vectors equal tools/make-golden-video.py's golden;
/// text, a frame and a video find videos; `--segments` answers where; broken, hostile and
/// mutated files fail alone with a clear error; a hot swap of CLIP under a stream of video
/// adds fails no call.
@Suite(.serialized) struct VideoServingTests {
    static var clipPlugin: String { Products.directory + "/libembedd-clip.so" }
    static var audioPlugin: String { Products.directory + "/libembedd-audio.so" }
    static var videoPlugin: String { Products.directory + "/libembedd-video.so" }
    static let clip = Products.repoRoot + "/Tests/Fixtures/clip/clip-tiny-gelu"
    static let whisper = Products.repoRoot + "/Tests/Fixtures/audio/whisper-tiny"
    static let clips = Products.repoRoot + "/Tests/Fixtures/video/clips"
    static let golden = Products.repoRoot + "/Tests/Fixtures/video/golden-clip-tiny-gelu.json"
    static let imageio = "/usr/lib/python3/dist-packages/imageio/resources/images"
    static var cockatoo: String { imageio + "/cockatoo.mp4" }
    static var realshort: String { imageio + "/realshort.mp4" }

    /// Why the suite cannot run here (nil when it can): the videos and ffmpeg come from Debian
    /// packages that tools/install-deps installs.
    static func missing() -> String? {
        for p in ["/usr/bin/ffmpeg", cockatoo, realshort] where !FileSystem.exists(p) {
            return "\(p) is missing (tools/install-deps installs ffmpeg and python3-imageio)"
        }
        return nil
    }

    static func daemon() throws -> RestartableDaemon {
        try RestartableDaemon(models: """
              - name: clip
                plugin: \(clipPlugin)
                model_dir: \(clip)
                options: { precision: fp32 }
              - name: whisper
                plugin: \(audioPlugin)
                model_dir: \(whisper)
                options: { precision: fp32 }
              - name: clip-video
                plugin: \(videoPlugin)
                model_dir: \(clip)
                options: { frames_model: clip, audio_model: whisper }

            """ + TestDaemon.fixtureModel())
    }

    /// One video of the golden file: where it is, its video vector and its sound vector (nil: no sound track).
    struct Golden {
        let file: String
        let vector: [Float]
        let sound: [Float]?
        var name: String { (file as NSString).lastPathComponent }
    }

    static func goldens() throws -> [Golden] {
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: golden))) as! [String: Any]
        return (root["videos"] as! [[String: Any]]).map { v in
            let file = v["file"] as! String
            let sound = (v["sound"] as? [String: Any])?["vector"] as? [Double]
            return Golden(file: file.hasPrefix("/") ? file : Products.repoRoot + "/" + file,
                          vector: (v["vector"] as! [Double]).map(Float.init), sound: sound?.map(Float.init))
        }
    }

    static func mime(_ path: String) -> String {
        switch (path as NSString).pathExtension {
        case "mkv": "video/x-matroska"
        case "webm": "video/webm"
        case "avi": "video/x-msvideo"
        case "mov": "video/quicktime"
        default: "video/mp4"
        }
    }

    static func media(_ path: String, mime: String? = nil) throws -> Input {
        Input(.media(Media(data: try FileSystem.readFile(path, limit: 1 << 26), mimeType: mime ?? Self.mime(path))))
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        AudioServingTests.cosine(a, b)
    }

    /// Runs the ffmpeg CLI, failing with its stderr.
    static func ffmpeg(_ args: [String]) throws {
        let r = try runProgram("/usr/bin/ffmpeg", ["-hide_banner", "-loglevel", "error", "-y"] + args, timeout: 120)
        guard r.status == 0 else { throw TestFailure("ffmpeg \(args): \(r.stderr)") }
    }

    /// Copies `files` into `dir` (made if needed); returns the copies' paths.
    @discardableResult
    static func copy(_ files: [String], into dir: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return try files.map { f in
            let to = dir + "/" + (f as NSString).lastPathComponent
            try FileSystem.copyFile(from: f, to: to, permissions: 0o644)
            return to
        }
    }

    /// The hits of `embedctl search … --format json` (key, score).
    static func hits(_ r: RunResult) throws -> [(key: String, score: Double)] {
        let results = (try jsonOutput(r) as? [String: Any])?["results"] as? [[[String: Any]]]
        return (results?.first ?? []).map { ($0["key"] as? String ?? "", $0["score"] as? Double ?? -9) }
    }

    @Test(.enabled(if: missing() == nil, "needs ffmpeg and python3-imageio"))
    func aCLIPCollectionHoldsVideosPicturesAndTextsAndTheirSound() throws {
        let d = try Self.daemon()
        let c = try d.client()
        let goldens = try Self.goldens()
        #expect(goldens.count >= 10)
        // The MP4s (python3-imageio's two and the committed clips), then the other containers
        // with two pictures and a text.
        let mp4s = try Self.copy(goldens.map(\.file).filter { $0.hasSuffix(".mp4") }, into: d.directory + "/videos")
        let others = try Self.copy(goldens.map(\.file).filter { !$0.hasSuffix(".mp4") }, into: d.directory + "/more")
        let pictures = try Self.copy(["q90-420.jpg", "rgb.png"].map { Products.repoRoot + "/Tests/Fixtures/media/" + $0 }, into: d.directory + "/pics")
        let byKey = Dictionary(uniqueKeysWithValues: goldens.map { g in ((mp4s + others).first { $0.hasSuffix("/" + g.name) }!, g) })
        let silent = byKey.filter { $0.value.sound == nil }.keys.sorted()
        #expect(silent.count >= 3 && silent.count < byKey.count)

        #expect(try d.ctl(["collection", "create", "clips", "--model", "clip"]).status == 0)
        let first = try d.ctl(["add", "clips", "--file", d.directory + "/videos/*.mp4"])
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        let mp4Silent = silent.filter { $0.hasSuffix(".mp4") }
        #expect(first.stdout.contains("stored \(mp4s.count), failed 0 of \(mp4s.count) items in collection clips"), "\(first.stdout)")
        #expect(first.stdout.contains("sound: \(mp4s.count - mp4Silent.count) videos' sound stored in collection clips.sound"), "\(first.stdout)")
        #expect(first.stdout.contains("sound: \(mp4Silent.count) video has no sound track: \(mp4Silent.first ?? "?")"), "\(first.stdout)")
        let text = "a white cockatoo on a branch"
        let second = try d.ctl(["add", "clips", "--format", "json", "--file", d.directory + "/more/*", "--file", d.directory + "/pics/*", text])
        #expect(second.status == 0, "\(second.stdout) \(second.stderr)")
        let report = try #require(try jsonOutput(second) as? [String: Any])
        #expect(report["stored"] as? Int == others.count + pictures.count + 1 && report["failed"] as? Int == 0, "\(second.stdout)")
        let sound = report["sound"] as? [String: Any]
        let othersSilent = silent.filter { !$0.hasSuffix(".mp4") }
        #expect((sound?["stored"] as? [String: Any])?["clips.sound"] as? Int == others.count - othersSilent.count, "\(second.stdout)")
        #expect(Set(sound?["absent_keys"] as? [String] ?? []) == Set(othersSilent), "\(second.stdout)")
        #expect((sound?["failures"] as? [Any])?.isEmpty == true)

        // clips.sound: bound to Whisper's space, holding exactly the videos with sound.
        let info = try c.describeCollection("clips.sound")
        let whisper = try #require(try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self).models.first { $0.name == "whisper" })
        #expect(info.model == "whisper" && info.embeddingSpace == whisper.embeddingSpace && info.dimension == whisper.dimension)
        #expect(try c.count("clips") == UInt64(byKey.count + pictures.count + 1))
        #expect(try c.count("clips.sound") == UInt64(byKey.count - silent.count))
        var worstVideo = 1.0, worstSound = 1.0
        for (key, g) in byKey.sorted(by: { $0.key < $1.key }) {
            let stored = try #require(try c.get("clips", key: key), "\(key) is not in clips")
            let cv = Self.cosine(stored.vector?.values ?? [], g.vector)
            worstVideo = min(worstVideo, cv)
            #expect(cv >= 0.9999, "\(key): cosine \(cv) to the golden video vector")
            let heard = try c.get("clips.sound", key: key)
            guard let expected = g.sound else {
                #expect(heard == nil, "\(key) has no sound track but clips.sound holds it")
                continue
            }
            let soundVector = try #require(heard?.vector?.values, "\(key)'s sound is not in clips.sound")
            // The sound vector is what `embed` with the audio model gives for the same file.
            let embedded = try c.embed(model: "whisper", inputs: [try Self.media(g.file)]).vectors[0].values
            let cs = Self.cosine(soundVector, embedded)
            worstSound = min(worstSound, cs, Self.cosine(soundVector, expected))
            #expect(cs >= 0.9999 && Self.cosine(soundVector, expected) >= 0.9999, "\(key): sound cosine \(cs) to embed, \(Self.cosine(soundVector, expected)) to the golden")
        }
        print("video serving: \(byKey.count) videos stored (\(byKey.count - silent.count) with sound), worst cosine to the golden \(worstVideo), sound \(worstSound)")

        // A sentence: every video is among the hits, scored as the stored vectors say.
        let all = byKey.count + pictures.count + 1
        let byText = try Self.hits(try d.ctl(["search", "clips", "--format", "json", "-k", "\(all)", "a bird on a branch"]))
        #expect(byText.count == all && Set(byKey.keys).isSubset(of: Set(byText.map(\.key))))
        let query = try c.embed(model: "clip", inputs: [.text("a bird on a branch")]).vectors[0].values
        for hit in byText {
            let want = Self.cosine(query, try #require(try c.get("clips", key: hit.key)?.vector?.values))
            #expect(abs(hit.score - want) < 1e-4, "\(hit.key): score \(hit.score), cosine \(want)")
        }
        #expect(byText.map(\.score) == byText.map(\.score).sorted(by: >))

        // A frame cut from cockatoo.mp4 (decoded from the start: the file's key frames after
        // 3.8 s are not clean entry points, so `-ss` before `-i` gives a broken picture).
        let frame = d.directory + "/frame.jpg"
        try Self.ffmpeg(["-i", Self.cockatoo, "-ss", "4", "-frames:v", "1", frame])
        let byFrame = try Self.hits(try d.ctl(["search", "clips", "--format", "json", "-k", "3", "--file", frame]))
        #expect(byFrame.first?.key.hasSuffix("/cockatoo.mp4") == true && byFrame[0].score - byFrame[1].score > 0.05, "\(byFrame)")

        // A copy of a stored video finds it first, with score 1.
        for name in ["cockatoo.mp4", "hevc.mkv"] {
            let copy = d.directory + "/query-" + name
            try FileSystem.copyFile(from: byKey.first { $0.value.name == name }!.value.file, to: copy, permissions: 0o644)
            let found = try Self.hits(try d.ctl(["search", "clips", "--format", "json", "-k", "2", "--file", copy]))
            #expect(found.first?.key.hasSuffix("/" + name) == true && abs((found.first?.score ?? 0) - 1) < 1e-4, "\(name): \(found)")
        }
        // The same from the client: a video as bytes is routed to the video model too.
        let viaBytes = try c.search("clips", [SearchQuery(.input(try Self.media(Self.realshort)))], k: 1).results[0].hits
        #expect(viaBytes.first?.key.hasSuffix("/realshort.mp4") == true && abs((viaBytes.first?.score ?? 0) - 1) < 1e-4)
        #expect(try c.search("clips.sound", [SearchQuery(.input(try Self.media(Self.realshort)))], k: 1).results[0].hits.first?.key.hasSuffix("/realshort.mp4") == true)
    }

    @Test(.enabled(if: missing() == nil, "needs ffmpeg and python3-imageio"))
    func segmentsSayWhereAndGoWithTheirVideo() throws {
        let d = try Self.daemon()
        let c = try d.client()
        #expect(try d.ctl(["collection", "create", "clips", "--model", "clip"]).status == 0)
        let add = try d.ctl(["add", "clips", "--key", "cockatoo", "--file", Self.cockatoo, "--segments"])
        #expect(add.status == 0 && add.stdout.contains("stored 1, failed 0 of 1 item in collection clips (with 2 segments)"), "\(add.stdout) \(add.stderr)")
        #expect(add.stdout.contains("sound: 1 video's sound stored in collection clips.sound"), "\(add.stdout)")
        // 14 s of video: [0, 10) and [10, 14) in clips; the sound track (13.899 s of MP3, one
        // 30-s Whisper window) in clips.sound.
        let parent = try #require(try c.get("clips", key: "cockatoo"))
        #expect(parent.metadata == "{\"segments\":[[0,10],[10,14]]}", "\(parent.metadata)")
        let late = try #require(try c.get("clips", key: "cockatoo#t=10,14"))
        #expect(late.metadata.contains("\"start\":10") && late.metadata.contains("\"end\":14") && late.metadata.contains("\"segment_of\":\"cockatoo\""))
        #expect(try c.get("clips", key: "cockatoo#t=0,10") != nil && c.count("clips") == 3)
        let heard = try #require(try c.get("clips.sound", key: "cockatoo"))
        let soundWindows = SegmentKeys.of("cockatoo", heard.metadata)
        #expect(soundWindows.count == 1 && soundWindows[0].hasPrefix("cockatoo#t=0,13."), "\(heard.metadata)")
        #expect(try c.count("clips.sound") == 2)
        #expect(try c.get("clips.sound", key: soundWindows.first ?? "") != nil)
        // The segment's vector is what `embed --segments` gives for that window.
        let embedded = try c.embed(model: "clip-video", inputs: [try Self.media(Self.cockatoo)], segments: true).segments[0].segments
        #expect(embedded.map(\.start) == [0, 10] && Self.cosine(embedded[1].values, late.vector?.values ?? []) > 0.99999)

        // A frame from the last seconds: the table names the window.
        let frame = d.directory + "/late.jpg"
        try Self.ffmpeg(["-i", Self.cockatoo, "-ss", "12", "-frames:v", "1", frame])
        let table = try d.ctl(["search", "clips", "--file", frame, "-k", "3"])
        #expect(table.status == 0 && table.stdout.hasPrefix("#") && table.stdout.split(separator: "\n")[0].contains("TIME"), "\(table.stdout)")
        let row = table.stdout.split(separator: "\n").first { $0.contains("cockatoo#t=10,14") }
        #expect(row?.contains("10–14 s") == true, "\(table.stdout)")

        // Replaced by a shorter video: the windows it no longer has are gone, here and in clips.sound.
        let again = try d.ctl(["add", "clips", "--key", "cockatoo", "--file", Self.realshort, "--segments"])
        #expect(again.status == 0 && again.stdout.contains("(with 1 segment)"), "\(again.stdout)")
        #expect(try c.get("clips", key: "cockatoo#t=10,14") == nil && c.get("clips", key: "cockatoo#t=0,10") == nil)
        #expect(try c.get("clips", key: "cockatoo#t=0,1.199") != nil && c.count("clips") == 2)
        #expect(try c.get("clips.sound", key: soundWindows.first ?? "") == nil && c.count("clips.sound") == 2)
        // Replaced by a video without sound: its key's old sound (and windows) leave clips.sound.
        let silent = try d.ctl(["add", "clips", "--key", "cockatoo", "--file", Self.clips + "/hevc.mkv", "--segments"])
        #expect(silent.status == 0 && silent.stdout.contains("sound: 1 video has no sound track: cockatoo"), "\(silent.stdout)")
        #expect(try c.get("clips.sound", key: "cockatoo") == nil && c.count("clips.sound") == 0)

        // Deleting deletes the segments.
        let del = try d.ctl(["delete", "clips", "cockatoo", "--format", "json"])
        #expect(del.stdout.contains("\"deleted\": 1, \"segments\": 1"), "\(del.stdout)")
        #expect(try c.count("clips") == 0)
    }

    @Test(.enabled(if: missing() == nil, "needs ffmpeg and python3-imageio"))
    func aWhisperCollectionTakesVideosSoundAndATextModelRefusesThem() throws {
        let d = try Self.daemon()
        let c = try d.client()
        // Bound to Whisper: a video's sound track is embedded; one without sound fails alone, saying so.
        #expect(try d.ctl(["collection", "create", "talks", "--model", "whisper"]).status == 0)
        let silent = Self.clips + "/h264-bt709.mp4"
        let add = try d.ctl(["add", "talks", "--format", "json", "--file", Self.cockatoo, "--file", Self.clips + "/vp9-opus.webm", "--file", silent])
        let report = try #require(try jsonOutput(add) as? [String: Any])
        #expect(report["stored"] as? Int == 2 && add.status == 1, "\(add.stdout)")
        let failure = (report["failures"] as? [[String: Any]])?.first
        #expect(failure?["key"] as? String == silent && (failure?["error"] as? String)?.hasPrefix("no sound track") == true, "\(add.stdout)")
        let stored = try #require(try c.get("talks", key: Self.cockatoo)?.vector?.values)
        let direct = try c.embed(model: "whisper", inputs: [try Self.media(Self.cockatoo)]).vectors[0].values
        #expect(Self.cosine(stored, direct) > 0.99999)
        // No second sound collection for a collection that is itself about sound.
        #expect(try c.listCollections().map(\.name).sorted() == ["talks"])

        // Bound to the fixture's text model: a video is refused by its type, whatever its size.
        #expect(try d.ctl(["collection", "create", "notes", "--model", "fx"]).status == 0)
        let refused = try d.ctl(["add", "notes", "--format", "json", "--file", Self.cockatoo, "--file", Self.clips + "/hevc.mkv", "a note"])
        let notes = try #require(try jsonOutput(refused) as? [String: Any])
        let errors = (notes["failures"] as? [[String: Any]] ?? []).map { $0["error"] as? String ?? "" }
        #expect(refused.status == 1 && notes["stored"] as? Int == 1 && errors.count == 2, "\(refused.stdout)")
        #expect(errors.allSatisfy { $0.contains("does not accept media type 'video/") }, "\(errors)")
        let search = try d.ctl(["search", "notes", "--file", Self.cockatoo])
        #expect(search.status == 1 && search.stderr.contains("does not accept media type 'video/mp4'"), "\(search.stderr)")
    }

    @Test(.enabled(if: missing() == nil, "needs ffmpeg and python3-imageio"))
    func brokenAndHostileVideosFailAloneWithAClearError() throws {
        let d = try Self.daemon()
        let c = try d.client()
        let dir = d.directory + "/bad"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cockatoo = try FileSystem.readFile(Self.cockatoo, limit: 1 << 26)
        let small = try FileSystem.readFile(Self.clips + "/h264-aac.mp4", limit: 1 << 26)
        /// The offset of `tag` in `bytes` at or after `from`.
        func find(_ tag: String, in bytes: [UInt8], from: Int = 0) throws -> Int {
            let t = Array(tag.utf8)
            return try #require((from..<(bytes.count - t.count)).first { Array(bytes[$0..<$0 + t.count]) == t }, "no '\(tag)' box")
        }
        // An absurd resolution: the H.264 sample entry (stsd → avc1: 24 bytes after its type come
        // width and height, 16 bits each) says 60000×60000; refused from the header.
        var huge = small
        let avc1 = try find("avc1", in: small, from: try find("stsd", in: small))
        huge.replaceSubrange(avc1 + 28 ..< avc1 + 32, with: [0xEA, 0x60, 0xEA, 0x60])
        // An absurd duration: the movie header (mvhd v0: timescale at +16, duration at +20 after
        // the type) declares 2^32 - 16 ticks of 1/1000 s (49 days).
        var long = small
        let mvhd = try find("mvhd", in: small)
        long.replaceSubrange(mvhd + 20 ..< mvhd + 24, with: [0xFF, 0xFF, 0xFF, 0xF0])
        // Corrupt: the movie box (moov, at the end of cockatoo.mp4) overwritten with noise past its header.
        var corrupt = cockatoo
        let moov = try find("moov", in: cockatoo, from: cockatoo.count - 20_000)
        var rng = FuzzRandom(seed: 22)
        for i in moov + 4 ..< moov + 604 { corrupt[i] = UInt8(truncatingIfNeeded: rng.next()) }
        // Sound only, declared video/mp4; a video stream of a codec the daemon does not
        // decode (FFV1); a Matroska file of subtitles only.
        try Self.ffmpeg(["-i", Self.cockatoo, "-vn", "-c:a", "aac", dir + "/sound.m4a"])
        try Self.ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1", "-c:v", "ffv1", dir + "/ffv1.mkv"])
        try "1\n00:00:00,000 --> 00:00:01,000\nhello\n".write(toFile: dir + "/s.srt", atomically: true, encoding: .utf8)
        try Self.ffmpeg(["-i", dir + "/s.srt", "-c:s", "srt", dir + "/subtitles.mkv"])
        let cases: [(name: String, bytes: [UInt8], mime: String, says: String)] = [
            ("truncated.mp4", Array(cockatoo.prefix(cockatoo.count * 2 / 5)), "video/mp4", "truncated MP4 file"),
            ("corrupt.mp4", corrupt, "video/mp4", "corrupt MP4 file"),
            ("empty.mp4", [], "video/mp4", "empty"),
            ("sound.m4a", try FileSystem.readFile(dir + "/sound.m4a"), "video/mp4", "sound but no picture"),
            ("ffv1.mkv", try FileSystem.readFile(dir + "/ffv1.mkv"), "video/x-matroska", "unsupported video codec ffv1"),
            ("subtitles.mkv", try FileSystem.readFile(dir + "/subtitles.mkv"), "video/x-matroska", "no video stream"),
            ("huge.mp4", huge, "video/mp4", "60000x60000"),
            ("long.mp4", long, "video/mp4", "s long (as its header declares)"),
        ]
        let good = try Self.media(Self.clips + "/h264-aac.mp4")
        let reference = try c.embed(model: "clip-video", inputs: [good]).vectors[0].values
        #expect(try d.ctl(["collection", "create", "clips", "--model", "clip"]).status == 0)
        for (name, bytes, mime, says) in cases {
            // As bytes, to the video model.
            let (code, message) = callStatus { _ = try c.embed(model: "clip-video", inputs: [Input(.media(Media(data: bytes, mimeType: mime)))]) }
            #expect(code == .invalidArgument || code == .outOfRange, "\(name): \(String(describing: code)) \(message)")
            #expect(message.hasPrefix("input 0: ") && message.contains(says), "\(name): \(message)")
            // As a passed file beside a good video, to a CLIP collection: it fails alone.
            let path = dir + "/" + name
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let companion = Self.clips + (mime == "video/mp4" ? "/h264-aac.mp4" : "/hevc.mkv")
            let add = try d.ctl(["add", "clips", "--format", "json", "--mime", mime, "--file", path, "--file", companion])
            let report = try #require(try jsonOutput(add) as? [String: Any])
            let failure = (report["failures"] as? [[String: Any]])?.first
            #expect(report["stored"] as? Int == 1 && failure?["key"] as? String == path, "\(name): \(add.stdout)")
            let why = failure?["error"] as? String ?? ""
            // An empty file has no type to route by: the collection's own model refuses it.
            #expect(why.contains(says) || (name == "empty.mp4" && why.contains("empty")), "\(name): \(why)")
            print("bad video \(name): \(message) | add: \(why)")
        }
        // Still serving, and the good video's vector has not changed.
        #expect(try c.embed(model: "clip-video", inputs: [good]).vectors[0].values == reference)
        #expect(d.isRunning)
    }

    /// ≥ 1,000 randomly mutated copies of real videos of every container (bytes flipped, cut short,
    /// runs zeroed, headers scrambled, junk inserted) through the daemon, as bytes and as passed
    /// files: every answer is a vector or a clear per-input error, and the daemon stays up and
    /// correct. More: `EMBEDD_VIDEO_FUZZ=5000`; replay a failure with `EMBEDD_FUZZ_SEED=N`.
    @Test(.enabled(if: missing() == nil, "needs ffmpeg and python3-imageio"))
    func mutatedVideosNeverHurtTheDaemon() throws {
        let d = try Self.daemon()
        let c = try d.client()
        let sources = [Self.realshort] + ["h264-aac.mp4", "hevc.mkv", "vp9-opus.webm", "av1.mkv", "mpeg4.avi", "mjpeg.mov"].map { Self.clips + "/" + $0 }
        let bases = try sources.map { (try FileSystem.readFile($0, limit: 1 << 24), Self.mime($0)) }
        let reference = try c.embed(model: "clip-video", inputs: [try Self.media(sources[0])]).vectors[0].values
        let seed = UInt64(Environment.get("EMBEDD_FUZZ_SEED") ?? "") ?? 0x22F1_2026
        var rng = FuzzRandom(seed: seed)
        var accepted = 0, refused = 0, sent = 0, passed = 0
        let total = max(1000, Int(Environment.get("EMBEDD_VIDEO_FUZZ") ?? "") ?? 0)
        let file = d.directory + "/mutated"
        let started = Date()
        while sent < total {
            let (base, mime) = bases[Int(rng.next() % UInt64(bases.count))]
            let b = FuzzRandom.mutated(base, &rng)
            // Every fifth as a passed file (read in place by the plugin), the rest as bytes.
            let asFile = sent % 5 == 0
            let (code, message) = callStatus {
                if asFile {
                    try Data(b).write(to: URL(fileURLWithPath: file))
                    let fd = try FileDescriptor.open(file, .readOnly)
                    defer { try? fd.close() }
                    _ = try c.embed(model: "clip-video", inputs: [Input(.file(FileRef(index: 0, mimeType: mime)))], files: [fd])
                } else {
                    _ = try c.embed(model: "clip-video", inputs: [Input(.media(Media(data: b, mimeType: mime)))])
                }
            }
            switch code {
            case .ok: accepted += 1
            case .invalidArgument?, .outOfRange?:
                #expect(message.hasPrefix("input 0: ") && message.count > 20, "seed \(seed): unclear error \(message)")
                refused += 1
            default: Issue.record("seed \(seed), mutation \(sent): unexpected \(String(describing: code)): \(message)")
            }
            if asFile { passed += 1 }
            sent += 1
        }
        let seconds = Date().timeIntervalSince(started)
        print("video fuzz: \(sent) mutated videos (\(passed) as passed files, seed \(seed)) in \(Int(seconds)) s: \(accepted) embedded, \(refused) refused with a clear error")
        #expect(accepted + refused == sent && refused > 50 && accepted > 50)
        #expect(try c.embed(model: "clip-video", inputs: [try Self.media(sources[0])]).vectors[0].values == reference)
        #expect(d.isRunning)
    }

    @Test(.enabled(if: missing() == nil, "needs ffmpeg and python3-imageio"))
    func aHotSwapOfCLIPOrWhisperDuringVideoAddsFailsNoCall() throws {
        let d = try Self.daemon()
        let setup = try d.client()
        _ = try setup.createCollection("clips", model: "clip")
        let videos = try (["h264-aac.mp4", "vp9-opus.webm", "mjpeg.mov"].map { Self.clips + "/" + $0 } + [Self.realshort]).map { try Self.media($0) }
        let reference = try setup.embed(model: "clip-video", inputs: [videos[0]]).vectors[0].values

        final class Shared: @unchecked Sendable {
            // Every member is read and written under `lock`.
            let lock = NSLock()
            var stop = false
            var failures: [String] = []
            var operations = 0
            func add(_ f: String) { lock.lock(); failures.append(f); lock.unlock() }
            func count() { lock.lock(); operations += 1; lock.unlock() }
            var ops: Int { lock.lock(); defer { lock.unlock() }; return operations }
            var stopped: Bool { lock.lock(); defer { lock.unlock() }; return stop }
        }
        let shared = Shared()
        let socket = d.socketPath
        let finished = DispatchGroup()
        for t in 0..<3 {
            finished.enter()
            Thread {
                defer { finished.leave() }
                let client: EmbedClient
                do { client = try EmbedClient(socketPath: socket, clientName: "video-load-\(t)", timeoutSeconds: 120) } catch {
                    shared.add("client \(t): connect: \(error)")
                    return
                }
                var i = 0
                while !shared.stopped {
                    do {
                        let r = try client.upsert("clips", [UpsertItem(key: "t\(t)-\(i)", value: .input(videos[(t + i) % videos.count]))])
                        let result = r.results.first
                        if result?.outcome != .stored || result?.sound != .stored {
                            shared.add("client \(t) add \(i): \(result?.error ?? "?") \(result?.soundError ?? "")")
                        }
                        shared.count()
                    } catch {
                        shared.add("client \(t) add \(i): \(error)")
                    }
                    i += 1
                }
            }.start()
        }
        while shared.ops < 10 { usleep(10_000) }
        var generations: [Int] = [], during: [Int] = []
        // CLIP (the frames) twice, then Whisper (the sound).
        for plugin in ["clip", "clip", "audio"] {
            let before = shared.ops
            let r = try d.ctl(["plugins", "reload", plugin, "--format", "json"])
            #expect(r.status == 0, "\(r.stderr)")
            generations.append((try jsonOutput(r) as? [[String: Any]])?.first?["generation"] as? Int ?? 0)
            during.append(shared.ops - before)
            let after = shared.ops
            while shared.ops < after + 20 { usleep(10_000) }
        }
        shared.lock.lock(); shared.stop = true; shared.lock.unlock()
        #expect(finished.wait(timeout: .now() + 120) == .success)
        #expect(generations == [5, 6, 7], "\(generations)")
        #expect(shared.failures.isEmpty, "\(shared.failures.count) failed calls: \(shared.failures.prefix(5))")
        print("video hot swap: \(shared.ops) video adds from 3 clients across 2 reloads of clip and 1 of audio (\(during) done during each), \(shared.failures.count) failed")
        // The same weights: the video vector after the swaps is the one before.
        #expect(Self.cosine(try setup.embed(model: "clip-video", inputs: [videos[0]]).vectors[0].values, reference) > 0.99999)
        #expect(try setup.count("clips") == UInt64(shared.ops) && setup.count("clips.sound") == UInt64(shared.ops))
    }

    @Test(.enabled(if: missing() == nil, "needs ffmpeg and python3-imageio"))
    func longDeadlinesWorkAndAnExpiredCallWedgesNothing() throws {
        let d = try Self.daemon()
        let c = try d.client()
        #expect(try d.ctl(["collection", "create", "clips", "--model", "clip"]).status == 0)
        // A deadline of ten minutes is honoured as given (not cut to a default).
        let slow = try d.ctl(["--timeout", "600", "add", "clips", "--segments", "--file", Self.cockatoo])
        #expect(slow.status == 0 && slow.stdout.contains("with 2 segments"), "\(slow.stdout) \(slow.stderr)")
        // A deadline that expires mid-video: DEADLINE_EXCEEDED (or CANCELLED), then the daemon serves on.
        let input = try Self.media(Self.cockatoo)
        for _ in 0..<3 {
            let (code, message) = callStatus { _ = try c.embed(model: "clip-video", inputs: [input], segments: true, deadlineMilliseconds: 20) }
            #expect(code == .deadlineExceeded || code == .cancelled, "\(String(describing: code)): \(message)")
        }
        // A client that goes away mid-call.
        let gone = try d.client()
        _ = try gone.call(.health, HealthRequest(), as: HealthResponse.self)
        try gone.send(.request(callID: gone.makeCallID(), method: .embed, deadlineMilliseconds: 0,
                               message: EmbedRequest(model: "clip-video", inputs: [input], segments: true)))
        gone.close()
        let started = Date()
        let after = try c.embed(model: "clip-video", inputs: [try Self.media(Self.realshort)])
        #expect(after.vectors.count == 1 && Date().timeIntervalSince(started) < 30)
        #expect(try c.get("clips", key: Self.cockatoo) != nil && d.isRunning)
    }
}

/// The segment keys an item's metadata lists (`{"segments": [[s, e], …]}` → `KEY#t=s,e`).
enum SegmentKeys {
    static func of(_ key: String, _ metadata: String) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(metadata.utf8)) as? [String: Any],
              let list = object["segments"] as? [[Any]] else { return [] }
        return list.map { pair in "\(key)#t=" + pair.map { "\($0)" }.joined(separator: ",") }
    }
}
