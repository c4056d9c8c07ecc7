/// Sound ready for a speech model: one channel (the mean of the source's channels) at
/// `sampleRate` (16 kHz unless another rate was asked for), with what the source was.
public struct DecodedAudio: Sendable, Equatable {
    /// Mono samples, nominally in [-1, 1] (decoders of lossy formats and float PCM may overshoot).
    public var samples: [Float]
    /// The rate of `samples`, in Hz.
    public var sampleRate: Int
    /// The source's sample rate (of its first decoded frame), in Hz.
    public var sourceSampleRate: Int
    /// The source's channel count (of its first decoded frame).
    public var sourceChannels: Int
    /// FFmpeg's name of the codec: "pcm_s16le", "flac", "vorbis", "opus", "mp3", "aac", ...
    public var codec: String
    /// The container: "WAV", "FLAC", "Ogg", "MP3", "MP4", "AIFF", "Matroska" or "AAC" (ADTS).
    public var container: String

    /// The duration of `samples`, in seconds.
    public var seconds: Double { Double(samples.count) / Double(sampleRate) }

    public init(samples: [Float], sampleRate: Int, sourceSampleRate: Int, sourceChannels: Int,
                codec: String, container: String) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.sourceSampleRate = sourceSampleRate
        self.sourceChannels = sourceChannels
        self.codec = codec
        self.container = container
    }
}
