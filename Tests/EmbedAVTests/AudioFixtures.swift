@preconcurrency import Glibc  // atexit
import EmbedAV
import EmbedSys
import Testing

/// Test audio made at test time by the ffmpeg command line from Debian's real speech
/// (`pocketsphinx-testdata`, 16-kHz mono), in a private temporary folder: three sources (the
/// original 16 kHz mono, a 44.1-kHz stereo mix of two utterances, a 48-kHz mono one) in every
/// format, and each file's reference decode by the ffmpeg command line with the same down-mix
/// and resampler as EmbedAV.
enum AudioFixtures {
    static let ffmpeg = "/usr/bin/ffmpeg"
    static let speech = "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-"
    static var available: Bool { FileSystem.exists(ffmpeg) && FileSystem.exists(speech + "0870.wav") }
    static let skipReason: Comment = "the ffmpeg command line (/usr/bin/ffmpeg) or pocketsphinx-testdata is missing: apt-get install ffmpeg pocketsphinx-testdata"

    /// One generated file: its name, the source it was made from, and the encoder arguments.
    struct File: Sendable, CustomStringConvertible {
        let name: String
        let source: String
        let channels: Int
        let encode: [String]
        /// Lossless formats decode to exactly the source's PCM.
        let lossless: Bool
        var description: String { name }
    }

    /// The three sources: mono 16 kHz (7.1 s), stereo 44.1 kHz (5.3 s, a different utterance
    /// per channel), mono 48 kHz (3.3 s).
    static let sources: [(name: String, channels: Int)] = [("m16", 1), ("s44", 2), ("m48", 1)]

    static let codecs: [(suffix: String, encode: [String], lossless: Bool)] = [
        ("u8.wav", ["-c:a", "pcm_u8"], true), ("s16.wav", ["-c:a", "pcm_s16le"], true),
        ("s24.wav", ["-c:a", "pcm_s24le"], true), ("s32.wav", ["-c:a", "pcm_s32le"], true),
        ("f32.wav", ["-c:a", "pcm_f32le"], true), ("flac", ["-c:a", "flac"], true),
        ("ogg", ["-c:a", "libvorbis", "-q:a", "4"], false), ("opus", ["-c:a", "libopus", "-b:a", "48k"], false),
        ("mp3", ["-c:a", "libmp3lame", "-b:a", "64k"], false), ("m4a", ["-c:a", "aac", "-b:a", "64k"], false),
        // Beyond the issue's list: the other containers and codecs EmbedAV opens.
        ("aiff", ["-c:a", "pcm_s16be"], true), ("alac.m4a", ["-c:a", "alac"], true),
        ("flac.oga", ["-c:a", "flac", "-f", "ogg"], true), ("webm", ["-c:a", "libopus", "-b:a", "48k"], false),
        ("aac", ["-c:a", "aac", "-b:a", "64k", "-f", "adts"], false),
        ("mp4", ["-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"], false),
        ("noxing.mp3", ["-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0"], false),
    ]

    static let files: [File] = sources.flatMap { source in
        codecs.map { File(name: "\(source.name).\($0.suffix)", source: source.name + ".wav", channels: source.channels,
                          encode: $0.encode, lossless: $0.lossless) }
    }

    /// The folder, made once per test process (a Swift static is initialised once, thread-safely).
    static let dir: String = {
        let dir = (try? FileSystem.makeTemporaryDirectory(template: "/tmp/embedav-tests-XXXXXX")) ?? "/tmp/embedav-tests"
        guard available else { return dir }
        removeAtExit()
        let s = speech
        run(["-i", s + "0870.wav", "-c:a", "pcm_s16le", dir + "/m16.wav"], in: dir)
        run(["-i", s + "0890.wav", "-i", s + "0920.wav", "-filter_complex", "[0:a][1:a]amerge=inputs=2,aresample=44100",
             "-c:a", "pcm_s16le", dir + "/s44.wav"], in: dir)
        run(["-i", s + "0930.wav", "-ar", "48000", "-c:a", "pcm_s16le", dir + "/m48.wav"], in: dir)
        // 30 s of speech (the five utterances, then the first again, cut at 30 s) for timings.
        var inputs: [String] = []
        for n in ["0870", "0880", "0890", "0920", "0930", "0870"] { inputs += ["-i", s + n + ".wav"] }
        run(inputs + ["-filter_complex", "concat=n=6:v=0:a=1", "-t", "30", "-c:a", "pcm_s16le", dir + "/long30.wav"], in: dir)
        for file in files { run(["-i", dir + "/" + file.source] + file.encode + [dir + "/" + file.name], in: dir) }
        // Files EmbedAV must refuse: a video without sound, a format and a codec it does not open.
        run(["-f", "lavfi", "-i", "color=c=red:s=32x32:d=1", "-c:v", "mpeg4", dir + "/video-only.mp4"], in: dir)
        run(["-i", dir + "/m16.wav", dir + "/m16.au"], in: dir)
        run(["-i", dir + "/m16.wav", "-c:a", "adpcm_ima_wav", dir + "/m16.adpcm.wav"], in: dir)
        run(["-i", dir + "/long30.wav", "-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0", dir + "/long30.noxing.mp3"], in: dir)
        run(["-i", dir + "/m16.wav", "-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0", "-id3v2_version", "0",
             dir + "/m16.frames.mp3"], in: dir)
        return dir
    }()

    /// Runs ffmpeg quietly; its messages go to `dir`/ffmpeg.log.
    @discardableResult
    static func run(_ arguments: [String], in dir: String = AudioFixtures.dir) -> Bool {
        let args = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + arguments
        guard let child = try? ChildProcess.spawn(ffmpeg, arguments: args, outputPath: dir + "/ffmpeg.log") else { return false }
        return (try? child.wait()) == .exited(0)
    }

    static func path(_ name: String) -> String { dir + "/" + name }

    static func bytes(_ name: String) -> [UInt8] { (try? FileSystem.readFile(path(name))) ?? [] }

    static func write(_ name: String, _ bytes: [UInt8]) throws {
        let fd = try FileDescriptor.open(path(name), [.writeOnly, .create, .truncate])
        defer { try? fd.close() }
        try fd.writeAll(bytes)
    }

    /// Removes the folder when the test process exits (its files are remade by every run).
    static func removeAtExit() {
        atexit {
            let dir = AudioFixtures.dir
            for name in (try? FileSystem.contentsOfDirectory(dir)) ?? [] { try? FileSystem.unlink(dir + "/" + name) }
            try? FileSystem.removeDirectory(dir)
        }
    }

    /// The ffmpeg command line's decode of `name` to mono float at `rate`: the mean of the
    /// channels by `pan`, after converting to float (so the mean is not rounded to 16 bits),
    /// then swresample's soxr engine at EmbedAV's precision.
    static func reference(_ name: String, channels: Int, rate: Int = 16_000, inputOptions: [String] = []) -> [Float] {
        var filters = ["aformat=sample_fmts=flt"]
        if channels > 1 {
            let gain = 1.0 / Double(channels)
            filters.append("pan=mono|c0=" + (0..<channels).map { "\(gain)*c\($0)" }.joined(separator: "+"))
        }
        filters.append("aresample=resampler=soxr:precision=\(Int(referencePrecision)):osr=\(rate)")
        let out = path("\(name).ref\(rate).f32")
        guard run(inputOptions + ["-i", path(name), "-af", filters.joined(separator: ","), "-f", "f32le", out]) else { return [] }
        let raw = (try? FileSystem.readFile(out)) ?? []
        return raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// swresample's soxr precision EmbedAV uses (SoxrResampler.precision), written out here so a
    /// change there shows up as a failing comparison rather than a silently matching reference.
    static let referencePrecision = 20.0

    /// How far `a` is from `reference`.
    struct Deviation: CustomStringConvertible {
        var maxAbs: Float = 0
        var snr: Double = .infinity
        var countA = 0, countB = 0
        var description: String {
            "\(countA) vs \(countB) samples, max |diff| \(maxAbs), SNR \(snr == .infinity ? "exact" : "\(Int(snr.rounded())) dB")"
        }
    }

    static func deviation(_ a: [Float], _ reference: [Float]) -> Deviation {
        var d = Deviation(countA: a.count, countB: reference.count)
        var signal = 0.0, noise = 0.0
        for i in 0..<min(a.count, reference.count) {
            let e = a[i] - reference[i]
            d.maxAbs = max(d.maxAbs, abs(e))
            signal += Double(reference[i]) * Double(reference[i])
            noise += Double(e) * Double(e)
        }
        d.snr = noise == 0 ? .infinity : 10 * log10(signal / noise)
        return d
    }

    static func log10(_ x: Double) -> Double { FloatMath.log(x) / FloatMath.log(10.0) }
}

