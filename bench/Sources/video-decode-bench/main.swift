import BenchSupport
import EmbedAV
import EmbedSys

// Swift side of bench/video-decode: one video read through its descriptor by EmbedAV's
// VideoReader with one sampling, timed from open to the last frame; one JSON line.
//
//   video-decode-bench --file PATH --sampling uniform:16|interval:1.0|scenes:0.1:64 [--threads 0]

let tool = BenchTool(name: "video-decode-bench")
let options = tool.options()
guard let path = options["file"] else { tool.fail("--file PATH is required") }
let spec = options["sampling"] ?? "uniform:16"
let parts = spec.split(separator: ":").map(String.init)
let sampling: FrameSampling
switch parts.first {
case "uniform": sampling = .uniform(count: parts.count > 1 ? Int(parts[1]) ?? 16 : 16)
case "interval": sampling = .interval(seconds: parts.count > 1 ? Double(parts[1]) ?? 1 : 1)
case "scenes":
    sampling = .scenes(threshold: parts.count > 1 ? Double(parts[1]) ?? FrameSampling.defaultSceneThreshold : FrameSampling.defaultSceneThreshold,
                       maxFrames: parts.count > 2 ? Int(parts[2]) ?? 64 : 64)
default: tool.fail("unknown sampling \(spec)")
}
let threads = Int(options["threads"] ?? "0") ?? 0

do {
    let fd = try FileDescriptor.open(path, .readOnly)
    let size = try FileSystem.identity(of: path).size
    let start = BenchTool.now()
    let reader = try VideoReader(.descriptor(fd: fd.rawValue, size: size), mimeType: nil,
                                 limits: VideoLimits(maxFrames: 100_000, maxDecodeSeconds: 7_200), threads: threads)
    let opened = BenchTool.now()
    var frames = 0
    var checksum: UInt64 = 0
    var firstFrame: Double? = nil
    try reader.frames(sampling) { frame in
        frames += 1
        if firstFrame == nil { firstFrame = BenchTool.now() }
        checksum = checksum &* 31 &+ UInt64(frame.rgb[frame.rgb.count / 2])
    }
    let done = BenchTool.now()
    try fd.close()
    let info = reader.info
    let wall = done - start
    func f(_ x: Double) -> String { String(Double(Int((x * 1000).rounded())) / 1000) }
    tool.print("{\"sampling\": \"\(spec)\", \"threads\": \(threads), \"video\": \"\(info.width)x\(info.height) \(info.codec) \(info.container)\", "
               + "\"video_s\": \(f(info.duration)), \"bytes\": \(size), \"frames\": \(frames), \"open_s\": \(f(opened - start)), "
               + "\"first_frame_s\": \(f((firstFrame ?? done) - start)), \"wall_s\": \(f(wall)), "
               + "\"video_s_per_wall_s\": \(f(info.duration / wall)), \"checksum\": \(checksum)}")
} catch {
    tool.fail("\(error)")
}
