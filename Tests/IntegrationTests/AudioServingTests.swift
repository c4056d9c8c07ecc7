import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// Sound end to end (issue 21): the real daemon with the real audio plugin and the tiny seeded
/// Whisper (Tests/Fixtures/audio/whisper-tiny), over the socket, on real speech from Debian's
/// pocketsphinx-testdata encoded by the ffmpeg CLI. A long recording is stored with its 30-s
/// segments (KEY#t=S,E), found by a piece of itself, replaced and deleted with its segments;
/// `embed --segments` returns windows whose mean is the recording's vector; broken files fail
/// alone with INVALID_ARGUMENT and the daemon keeps serving; a text model refuses segments.
@Suite(.serialized) struct AudioServingTests {
    static var audioPlugin: String { Products.directory + "/libembedd-audio.so" }
    static let tiny = Products.repoRoot + "/Tests/Fixtures/audio/whisper-tiny"
    static let speech = "/usr/share/pocketsphinx/test/data/librivox"

    static func daemon() throws -> RestartableDaemon {
        try RestartableDaemon(models: """
              - name: whisper
                plugin: \(audioPlugin)
                model_dir: \(tiny)
                options: { precision: fp32 }

            """ + TestDaemon.fixtureModel())
    }

    /// The librivox speech files, sorted (each a few seconds of 16-kHz mono).
    static func speechFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: speech).filter { $0.hasSuffix(".wav") }.sorted().map { speech + "/" + $0 }
    }

    /// Encodes `sources` (concatenated, in order) into `out` with the ffmpeg CLI.
    static func encode(_ sources: [String], to out: String, extra: [String] = []) throws {
        var args = ["-hide_banner", "-loglevel", "error", "-y"]
        for s in sources { args += ["-i", s] }
        args += ["-filter_complex", "concat=n=\(sources.count):v=0:a=1"] + extra + [out]
        let r = try runProgram("/usr/bin/ffmpeg", args, timeout: 120)
        guard r.status == 0 else { throw TestFailure("ffmpeg failed: \(r.stderr)") }
    }

    /// Seconds of sound in a file, from ffprobe.
    static func seconds(_ file: String) throws -> Double {
        let r = try runProgram("/usr/bin/ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file])
        return Double(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) { ab += Double(x) * Double(y); aa += Double(x) * Double(x); bb += Double(y) * Double(y) }
        return ab / max((aa * bb).squareRoot(), 1e-30)
    }

    @Test func storesSegmentsFindsThemReplacesAndDeletesThem() throws {
        guard FileSystem.exists("/usr/bin/ffmpeg"), FileSystem.exists(Self.speech) else {
            Issue.record("needs ffmpeg and pocketsphinx-testdata (tools/install-deps installs them)")
            return
        }
        let d = try Self.daemon()
        let files = try Self.speechFiles()
        #expect(files.count >= 4)
        // A "lecture" longer than two windows: the speech files over and over.
        let lecture = d.directory + "/lecture.mp3"
        try Self.encode(Array(repeating: files, count: 4).flatMap { $0 }, to: lecture, extra: ["-b:a", "64k"])
        let total = try Self.seconds(lecture)
        #expect(total > 60, "lecture is \(total) s")
        let windows = Int((total / 30).rounded(.up))

        #expect(try d.ctl(["collection", "create", "talks", "--model", "whisper"]).status == 0)
        let add = try d.ctl(["add", "talks", "--key", "lecture", "--file", lecture, "--segments"])
        #expect(add.status == 0, "\(add.stdout) \(add.stderr)")
        #expect(add.stdout.contains("stored 1") && add.stdout.contains("with \(windows) segments"), "\(add.stdout)")

        let c = try d.client()
        #expect(try c.count("talks") == UInt64(1 + windows))
        let parent = try #require(try c.get("talks", key: "lecture"))
        #expect(parent.metadata.contains("\"segments\":[[0,30],[30,60]"), "\(parent.metadata)")
        let second = try #require(try c.get("talks", key: "lecture#t=30,60"))
        #expect(second.metadata.contains("\"start\":30") && second.metadata.contains("\"end\":60") && second.metadata.contains("\"segment_of\":\"lecture\""),
                "\(second.metadata)")

        // A piece of the second window finds that window first, and the table says when.
        let piece = d.directory + "/piece.wav"
        let cut = try runProgram("/usr/bin/ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-ss", "30", "-t", "30", "-i", lecture, piece])
        #expect(cut.status == 0, "\(cut.stderr)")
        let found = try d.ctl(["search", "talks", "--file", piece, "-k", "3"])
        #expect(found.status == 0, "\(found.stderr)")
        let firstLine = found.stdout.split(separator: "\n").dropFirst().first.map(String.init) ?? ""
        #expect(firstLine.contains("lecture#t=30,60") && firstLine.contains("0:30–1:00"), "\(found.stdout)")

        // `embed --segments`: the windows' mean, normalised, is the recording's vector.
        let embedded = try c.embed(model: "whisper", inputs: [Input(.media(Media(data: try FileSystem.readFile(lecture, limit: 1 << 26), mimeType: "audio/mpeg")))],
                                   segments: true)
        let segs = try #require(embedded.segments.first).segments
        #expect(segs.count == windows && segs.first?.start == 0 && abs((segs.last?.end ?? 0) - total) < 0.1, "\(segs.map { ($0.start, $0.end) })")
        var mean = [Float](repeating: 0, count: Int(embedded.dim))
        for s in segs { for j in mean.indices { mean[j] += s.values[j] } }
        #expect(Self.cosine(mean, embedded.vectors[0].values) > 0.99999)
        // The stored window equals the embedded one.
        #expect(Self.cosine(second.vector?.values ?? [], segs[1].values) > 0.99999)

        // Replaced by a shorter recording: the windows it no longer has are gone.
        let short = d.directory + "/short.flac"
        try Self.encode(Array(files.prefix(3)), to: short)
        let shortSeconds = try Self.seconds(short)
        #expect(shortSeconds < 30)
        #expect(try d.ctl(["add", "talks", "--key", "lecture", "--file", short, "--segments"]).status == 0)
        #expect(try c.count("talks") == 2)
        #expect(try c.get("talks", key: "lecture#t=30,60") == nil)
        // Deleting it deletes its segment.
        let del = try d.ctl(["delete", "talks", "lecture", "--format", "json"])
        #expect(del.stdout.contains("\"deleted\": 1, \"segments\": 1"), "\(del.stdout)")
        #expect(try c.count("talks") == 0)
    }

    /// ≥ 1,000 randomly mutated copies of real sound files of every format (bytes flipped, cut
    /// short, runs zeroed, headers scrambled, junk inserted) through the daemon: every answer
    /// is a vector or a clear per-input error, and the daemon stays up and correct.
    @Test func mutatedSoundNeverHurtsTheDaemon() throws {
        guard FileSystem.exists("/usr/bin/ffmpeg") else {
            Issue.record("needs ffmpeg (tools/install-deps installs it)")
            return
        }
        let d = try Self.daemon()
        let c = try d.client()
        let source = "/usr/share/pocketsphinx/test/data/cards/001.wav"
        let formats: [(String, [String], String)] = [
            ("s16.wav", [], "audio/wav"), ("u8.wav", ["-c:a", "pcm_u8"], "audio/wav"), ("f32.wav", ["-c:a", "pcm_f32le"], "audio/wav"),
            ("a.flac", [], "audio/flac"), ("vorbis.ogg", ["-c:a", "libvorbis"], "audio/ogg"), ("opus.ogg", ["-c:a", "libopus"], "audio/ogg"),
            ("a.mp3", ["-ar", "44100", "-ac", "2"], "audio/mpeg"), ("a.m4a", ["-c:a", "aac"], "audio/mp4"),
        ]
        var bases: [([UInt8], String)] = []
        for (name, extra, mime) in formats {
            let out = d.directory + "/base-" + name
            try Self.encode([source], to: out, extra: extra)
            bases.append((try FileSystem.readFile(out, limit: 1 << 24), mime))
        }
        let reference = try c.embed(model: "whisper", inputs: [Input(.media(Media(data: bases[0].0, mimeType: "audio/wav")))]).vectors[0].values
        let seed = UInt64(Environment.get("EMBEDD_FUZZ_SEED") ?? "") ?? 0x21A0_2026
        var rng = FuzzRandom(seed: seed)
        var accepted = 0, refused = 0, sent = 0
        let total = max(1000, Int(Environment.get("EMBEDD_AUDIO_FUZZ") ?? "") ?? 0)
        while sent < total {
            let (base, mime) = bases[Int(rng.next() % UInt64(bases.count))]
            let b = FuzzRandom.mutated(base, &rng)
            let (code, message) = callStatus { _ = try c.embed(model: "whisper", inputs: [Input(.media(Media(data: b, mimeType: mime)))]) }
            switch code {
            case .ok: accepted += 1
            case .invalidArgument?, .outOfRange?:
                #expect(message.hasPrefix("input 0: ") && message.count > 20, "seed \(seed): unclear error \(message)")
                refused += 1
            default: Issue.record("seed \(seed): unexpected \(String(describing: code)): \(message)")
            }
            sent += 1
        }
        print("audio fuzz: \(sent) mutated sound files (seed \(seed)): \(accepted) embedded, \(refused) refused with a clear error")
        #expect(accepted + refused == sent && refused > 50 && accepted > 50)
        #expect(try c.embed(model: "whisper", inputs: [Input(.media(Media(data: bases[0].0, mimeType: "audio/wav")))]).vectors[0].values == reference)
        #expect(d.process?.isRunning == true)
    }

    @Test func brokenFilesFailAloneAndTextModelsRefuseSegments() throws {
        guard FileSystem.exists("/usr/bin/ffmpeg") else {
            Issue.record("needs ffmpeg (tools/install-deps installs it)")
            return
        }
        let d = try Self.daemon()
        let c = try d.client()
        let files = try Self.speechFiles()
        let good = d.directory + "/good.ogg"
        try Self.encode([files[0]], to: good, extra: ["-c:a", "libvorbis"])
        let bytes = try FileSystem.readFile(good, limit: 1 << 26)
        let cases: [(String, [UInt8], String)] = [
            ("truncated", Array(bytes.prefix(bytes.count / 40)), "audio/ogg"),
            ("garbage", (0..<20000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }, "audio/wav"),
            ("mislabelled", bytes, "audio/mpeg"),
        ]
        for (name, data, mime) in cases {
            do {
                _ = try c.embed(model: "whisper", inputs: [Input(.media(Media(data: data, mimeType: mime)))])
                Issue.record("\(name): accepted")
            } catch {
                #expect(error.status == .invalidArgument, "\(name): \(error)")
                #expect(!error.description.isEmpty)
            }
        }
        // Still serving, and the good file embeds.
        let ok = try c.embed(model: "whisper", inputs: [Input(.media(Media(data: bytes, mimeType: "audio/ogg")))])
        #expect(ok.vectors.count == 1)
        // Segments from a model that has none: refused, naming why.
        do {
            _ = try c.embed(model: "fx", inputs: [.text("hello")], segments: true)
            Issue.record("fixture model returned segments")
        } catch {
            #expect(error.status == .invalidArgument && error.description.contains("returns no segments"), "\(error)")
        }
        #expect(try d.ctl(["collection", "create", "notes", "--model", "fx"]).status == 0)
        let refused = try d.ctl(["add", "notes", "hello", "--segments"])
        #expect(refused.status != 0 && (refused.stdout + refused.stderr).contains("returns no segments"), "\(refused.stdout) \(refused.stderr)")
    }
}
