@preconcurrency import Glibc  // atexit
import EmbedAV
import EmbedSys
import Testing

/// Test videos: the 2-s clips tools/make-test-video makes with the ffmpeg command line (into a
/// private temporary folder, once per test process), Debian's real videos from python3-imageio
/// (checked against their recorded SHA-256), and the command line's own decode of a frame, the
/// reference every sampled frame must equal byte for byte.
enum VideoFixtures {
    static let ffmpeg = AudioFixtures.ffmpeg
    static let repo: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/EmbedAVTests/VideoFixtures.swift
        return parts.joined(separator: "/")
    }()
    static let script = repo + "/tools/make-test-video"
    static var available: Bool { FileSystem.exists(ffmpeg) && FileSystem.exists(script) }
    static let skipReason: Comment = "the ffmpeg command line (/usr/bin/ffmpeg) is missing: apt-get install ffmpeg"

    /// python3-imageio's real videos (Debian 12, 2.4.1-5), with their SHA-256.
    static let imageio = "/usr/lib/python3/dist-packages/imageio/resources/images/"
    static let realVideos: [(name: String, sha256: String)] = [
        ("cockatoo.mp4", "5fde35f5a288ca86e216d2dc28188ab64b4560d3021f273faefdf0de80f38aa5"),  // 1280x720 H.264 4:4:4, MP3, 14 s
        ("realshort.mp4", "a8b35c2c2130453b9ea1172ad4af68ac027bc2483ef0545769684722127bfe18"),  // 320x240 H.264, AAC, 1.2 s
    ]
    static var realAvailable: Bool { realVideos.allSatisfy { FileSystem.exists(imageio + $0.name) } }
    static let realSkipReason: Comment = "python3-imageio's videos are missing: apt-get install python3-imageio"

    /// One generated clip and what it holds.
    struct Clip: Sendable, CustomStringConvertible {
        let name: String
        let container: String
        let codec: String
        let hasAudio: Bool
        var description: String { name }
    }

    /// The issue's list first, then the other containers and codecs EmbedAV opens.
    static let clips: [Clip] = [
        Clip(name: "h264-aac.mp4", container: "MP4", codec: "h264", hasAudio: true),
        Clip(name: "hevc.mkv", container: "Matroska", codec: "hevc", hasAudio: false),
        Clip(name: "vp9-opus.webm", container: "Matroska", codec: "vp9", hasAudio: true),
        Clip(name: "av1.mkv", container: "Matroska", codec: "av1", hasAudio: false),
        Clip(name: "mpeg4.avi", container: "AVI", codec: "mpeg4", hasAudio: false),
        Clip(name: "mjpeg.mov", container: "MP4", codec: "mjpeg", hasAudio: false),
        Clip(name: "vp8.webm", container: "Matroska", codec: "vp8", hasAudio: false),
        Clip(name: "h264-aac.ts", container: "MPEG-TS", codec: "h264", hasAudio: true),
        Clip(name: "h264-aac.flv", container: "FLV", codec: "h264", hasAudio: true),
        Clip(name: "mpeg2.mpg", container: "MPEG-PS", codec: "mpeg2video", hasAudio: true),
        Clip(name: "theora-vorbis.ogv", container: "Ogg", codec: "theora", hasAudio: true),
        Clip(name: "hevc10.mkv", container: "Matroska", codec: "hevc", hasAudio: false),
        Clip(name: "h264-bt709.mkv", container: "Matroska", codec: "h264", hasAudio: false),
        Clip(name: "sar.mp4", container: "MP4", codec: "h264", hasAudio: false),
        Clip(name: "rotate90.mp4", container: "MP4", codec: "h264", hasAudio: false),
        Clip(name: "rotate180.mp4", container: "MP4", codec: "h264", hasAudio: false),
        Clip(name: "rotate270.mp4", container: "MP4", codec: "h264", hasAudio: false),
        Clip(name: "scenes.mp4", container: "MP4", codec: "h264", hasAudio: false),
    ]

    /// The folder, made once per test process (a Swift static is initialised once, thread-safely).
    static let dir: String = {
        let dir = (try? FileSystem.makeTemporaryDirectory(template: "/tmp/embedav-video-XXXXXX")) ?? "/tmp/embedav-video"
        guard available else { return dir }
        removeAtExit(dir)
        _ = run(script, [dir], log: dir + "/make-test-video.log")
        return dir
    }()

    static func path(_ name: String) -> String { name.hasPrefix("/") ? name : dir + "/" + name }

    static func bytes(_ name: String) -> [UInt8] { (try? FileSystem.readFile(path(name))) ?? [] }

    static func write(_ name: String, _ bytes: [UInt8]) throws {
        let fd = try FileDescriptor.open(path(name), [.writeOnly, .create, .truncate])
        defer { try? fd.close() }
        try fd.writeAll(bytes)
    }

    /// Runs a program, its output into `log`; whether it exited 0.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], log: String) -> Bool {
        guard let child = try? ChildProcess.spawn(program, arguments: arguments, outputPath: log) else { return false }
        return (try? child.wait()) == .exited(0)
    }

    /// The frame `ffmpeg -ss T -i FILE -frames:v 1 -pix_fmt rgb24 -f rawvideo` writes (T with
    /// six decimals, the microseconds -ss parses), or nil when it writes none.
    static func reference(_ name: String, at time: Double) -> [UInt8]? {
        let us = Int64((time * 1e6).rounded())
        let fraction = String(us % 1_000_000)
        let t = "\(us / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
        return rawFrame(name, tag: "ss\(us)", ["-ss", t, "-i", path(name)])
    }

    /// Frame `index` of the command line's decode of the whole video (`select=eq(n\,index)`):
    /// the picture a player shows, with no seek involved.
    static func reference(_ name: String, frame index: Int) -> [UInt8]? {
        rawFrame(name, tag: "n\(index)", ["-i", path(name), "-vf", "select=eq(n\\,\(index))", "-fps_mode", "passthrough"])
    }

    private static func rawFrame(_ name: String, tag: String, _ arguments: [String]) -> [UInt8]? {
        // One file per call: parallel tests ask for the same frame, and one's cleanup must not
        // remove (or its ffmpeg truncate) the file another is about to read.
        let out = dir + "/ref-\(name.split(separator: "/").last!)-\(tag)-\(UInt64.random(in: 0...UInt64.max)).rgb"
        let args = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + arguments
            + ["-frames:v", "1", "-pix_fmt", "rgb24", "-f", "rawvideo", out]
        defer {
            try? FileSystem.unlink(out)
            try? FileSystem.unlink(out + ".log")
        }
        guard run(ffmpeg, args, log: out + ".log"), let raw = try? FileSystem.readFile(out), !raw.isEmpty else { return nil }
        return raw
    }

    /// The video stream's frames as ffprobe decodes them: their best-effort timestamps (nil where
    /// none) in the stream's time base `num/den`, and the container's start time in microseconds.
    struct Timeline {
        let pts: [Int64?]
        let num: Int64, den: Int64
        let startMicroseconds: Int64

        /// The frame -ss T picks, by the rule EmbedAV follows, derived here independently: the
        /// first whose timestamp is at or after T + start rounded to the time base (half away
        /// from zero, as av_rescale_q), else the last.
        func index(for t: Double) -> Int? {
            let a = (Int64((t * 1e6).rounded()) + startMicroseconds) * den, b = 1_000_000 * num
            let threshold = a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b)
            return pts.firstIndex { $0.map { $0 >= threshold } ?? false } ?? pts.lastIndex { $0 != nil }
        }

        /// Frame `i`'s time on the -ss clock.
        func time(_ i: Int) -> Double? {
            pts[i].map { Double($0) * Double(num) / Double(den) - Double(startMicroseconds) / 1e6 }
        }
    }

    static func timeline(_ name: String) -> Timeline? {
        // One pair of files per call, removed after: ChildProcess appends to its output file, so
        // a second probe of the same video (or two at once, from parallel tests) would read
        // the frames twice, interleaved.
        let tag = "\(name.split(separator: "/").last!)-\(UInt64.random(in: 0...UInt64.max))"
        let header = dir + "/probe-\(tag).txt", frames = dir + "/frames-\(tag).txt"
        defer {
            try? FileSystem.unlink(header)
            try? FileSystem.unlink(frames)
        }
        guard run("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=time_base:format=start_time",
                                      "-of", "default=nw=1", path(name)], log: header),
              run("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=best_effort_timestamp",
                                      "-of", "csv=p=0", path(name)], log: frames),
              let headerText = try? FileSystem.readFile(header), let frameText = try? FileSystem.readFile(frames) else { return nil }
        var num: Int64 = 0, den: Int64 = 0, start: Int64 = 0
        for line in String(decoding: headerText, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("time_base=") {
                let parts = line.dropFirst(10).split(separator: "/")
                num = Int64(parts[0]) ?? 0
                den = Int64(parts[1]) ?? 0
            } else if line.hasPrefix("start_time=") {  // "1.578667", "-0.007000": microseconds exactly
                let text = line.dropFirst(11)
                let negative = text.hasPrefix("-")
                let parts = text.drop { $0 == "-" }.split(separator: ".")
                let micro = parts.count > 1 ? String(parts[1].prefix(6)) : ""
                let us = (Int64(parts[0]) ?? 0) * 1_000_000 + (Int64(micro + String(repeating: "0", count: 6 - micro.count)) ?? 0)
                start = negative ? -us : us
            }
        }
        let pts = String(decoding: frameText, as: UTF8.self).split(separator: "\n").map { Int64(String($0.filter { $0.isNumber || $0 == "-" })) }
        guard num > 0, den > 0, !pts.isEmpty else { return nil }
        return Timeline(pts: pts, num: num, den: den, startMicroseconds: start)
    }

    /// `sha256sum`'s hex digest of a file.
    static func sha256(_ path: String) -> String? {
        let out = dir + "/sha256-\(path.split(separator: "/").last!)-\(UInt64.random(in: 0...UInt64.max)).txt"
        defer { try? FileSystem.unlink(out) }
        guard run("/usr/bin/sha256sum", [path], log: out), let text = try? FileSystem.readFile(out) else { return nil }
        return String(decoding: text.prefix(64), as: UTF8.self)
    }

    /// Every frame `sampling` hands over.
    static func frames(_ reader: VideoReader, _ sampling: FrameSampling) throws(VideoError) -> [VideoFrame] {
        var frames: [VideoFrame] = []
        try reader.frames(sampling) { frames.append($0) }
        return frames
    }

    /// How many bytes differ, and by how much at most.
    static func difference(_ a: [UInt8], _ b: [UInt8]) -> (count: Int, max: Int) {
        guard a.count == b.count else { return (max(a.count, b.count), 255) }
        var count = 0, largest = 0
        for i in a.indices where a[i] != b[i] {
            count += 1
            largest = max(largest, abs(Int(a[i]) - Int(b[i])))
        }
        return (count, largest)
    }

    /// Removes the folder when the test process exits.
    static func removeAtExit(_ dir: String) {
        atexit {
            let dir = VideoFixtures.dir
            for name in (try? FileSystem.contentsOfDirectory(dir)) ?? [] { try? FileSystem.unlink(dir + "/" + name) }
            try? FileSystem.removeDirectory(dir)
        }
    }
}
