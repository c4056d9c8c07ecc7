/// What a video's headers say, read by `VideoReader.init` before any frame is decoded.
public struct VideoInfo: Sendable, Equatable {
    /// "MP4", "Matroska", "AVI", "MPEG-TS", "MPEG-PS", "FLV" or "Ogg".
    public let container: String
    /// FFmpeg's name of the video codec: "h264", "hevc", "vp9", "av1", "mpeg4", "mjpeg", ...
    public let codec: String
    /// The picture's size as shown: after the rotation of the display matrix (a phone's portrait
    /// video stored as 1920×1080 with a 90° matrix is 1080×1920 here), as the ffmpeg command
    /// line's autorotate shows it. Not rescaled for a non-square pixel aspect ratio (nor is any
    /// frame: the command line does not either).
    public let width: Int
    public let height: Int
    /// Seconds: from 0 on the `-ss` clock (the container's start) to the end of the video stream
    /// (the container's duration when the stream declares none).
    public let duration: Double
    /// Frames per second as FFmpeg guesses it (`av_guess_frame_rate`); nil when unknown.
    public let frameRate: Double?
    /// Whether the container has an audio stream (its sound is decoded by `AudioDecoder`).
    public let hasAudio: Bool
    /// The clockwise rotation applied to every frame: 0, 90, 180 or 270 degrees.
    public let rotation: Int
}

/// One sampled frame, converted to RGB exactly as `ffmpeg -ss T -i FILE -frames:v 1 -pix_fmt
/// rgb24 -f rawvideo -` converts it (libswscale with the command line's settings, after its
/// autorotate), so the pixels are the same bytes.
public struct VideoFrame: Sendable, Equatable {
    /// The frame's presentation time in seconds on the `-ss` clock (see `FrameSampling`): the
    /// frame's own time, at or after the sampled time.
    public let time: Double
    public let width: Int
    public let height: Int
    /// `width × height × 3` bytes: RGB24, rows top to bottom without padding.
    public let rgb: [UInt8]
}
