/// Bounds on what `AudioDecoder` and `AudioResampler` accept, each checked before the work it
/// bounds: the input's byte count first, then the channel count and sample rate a header
/// declares, then the duration it declares (when it declares one), then the duration of the audio
/// as it is decoded, so a file whose header says nothing still stops at the limit.
public struct AudioLimits: Sendable, Equatable {
    /// The longest audio accepted, in seconds. Default 3,600 (one hour: 57.6 million samples,
    /// 230 MB of `Float`, at 16 kHz).
    public var maxSeconds: Double
    /// The most encoded bytes accepted. Default 64 MiB, the daemon's default frame limit.
    public var maxInputBytes: Int

    /// Sample rates accepted from a header, a decoded frame, a PCM input or as the target:
    /// 1 Hz to 768 kHz (the highest rate audio interfaces record at).
    public static let sampleRates: ClosedRange<Int> = 1...768_000
    /// Channel counts accepted: 1 to 64 (FFmpeg's own channel-layout limit).
    public static let channelCounts: ClosedRange<Int> = 1...64

    /// The defaults above, or the given bounds.
    public init(maxSeconds: Double = 3_600, maxInputBytes: Int = 64 << 20) {
        self.maxSeconds = maxSeconds
        self.maxInputBytes = maxInputBytes
    }
}
