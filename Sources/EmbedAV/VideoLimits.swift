/// Bounds on what `VideoReader` accepts, each checked as early as the data allows: the byte count
/// before anything is read; the resolution and duration the headers declare before a frame is
/// decoded (and the resolution of every decoded frame again); the sampled frame count before
/// decoding starts; the wall time between packets while decoding.
public struct VideoLimits: Sendable, Equatable {
    /// The most encoded bytes accepted. Default 64 GiB (four hours of 4K from a phone is ~50 GB).
    public var maxInputBytes: Int64
    /// The longest video accepted, in seconds. Default 14,400 (four hours).
    public var maxSeconds: Double
    /// The most pixels in a frame (width × height). Default 8192 × 4320 (8K DCI); a larger
    /// header is refused before its first frame is decoded, and decoders are told the same bound.
    public var maxPixels: Int
    /// The most frames sampled from one video. Default 4,096.
    public var maxFrames: Int
    /// The wall-clock budget for one `VideoReader.frames` call, in seconds. Default 900.
    public var maxDecodeSeconds: Double

    /// The defaults above, or the given bounds.
    public init(maxInputBytes: Int64 = 64 << 30, maxSeconds: Double = 14_400, maxPixels: Int = 8192 * 4320,
                maxFrames: Int = 4_096, maxDecodeSeconds: Double = 900) {
        self.maxInputBytes = maxInputBytes
        self.maxSeconds = maxSeconds
        self.maxPixels = maxPixels
        self.maxFrames = maxFrames
        self.maxDecodeSeconds = maxDecodeSeconds
    }
}
