/// Raw PCM to one channel at the target rate, by the same down-mix (the mean of the channels)
/// and resampler (`SoxrResampler`) as `AudioDecoder`: for a plugin's PCM_F32 inputs.
public enum AudioResampler {
    /// Interleaved native-endian float32 frames of `channels` samples at `sampleRate`, as raw
    /// bytes at any alignment (how the plugin ABI hands them over).
    ///
    /// Refused: no samples, a rate or channel count outside `AudioLimits`, a byte count that is
    /// not a whole number of frames, more than `maxInputBytes` or `maxSeconds`, and NaN or
    /// infinite samples (one would spread through the resampler's filter into every vector).
    public static func mono(pcmF32 bytes: UnsafeRawBufferPointer, sampleRate: Int, channels: Int,
                            limits: AudioLimits = AudioLimits(), targetRate: Int = 16_000) throws(AudioError) -> [Float] {
        guard !bytes.isEmpty else { throw .emptyInput }
        guard bytes.count <= limits.maxInputBytes else { throw .tooManyBytes(count: bytes.count, limit: limits.maxInputBytes) }
        guard AudioLimits.channelCounts.contains(channels) else { throw .badChannelCount(container: "PCM", count: channels) }
        guard AudioLimits.sampleRates.contains(sampleRate) else { throw .badSampleRate(container: "PCM", rate: sampleRate) }
        guard AudioLimits.sampleRates.contains(targetRate) else { throw .badSampleRate(container: "requested", rate: targetRate) }
        let frameBytes = 4 * channels
        guard bytes.count % frameBytes == 0 else {
            throw .invalidPCM("\(bytes.count) bytes is not a whole number of \(channels)-channel float32 frames (\(frameBytes) bytes each)")
        }
        let frames = bytes.count / frameBytes
        let seconds = Double(frames) / Double(sampleRate)
        guard seconds <= limits.maxSeconds else { throw .tooLong(seconds: seconds, limit: limits.maxSeconds, declared: true) }

        var pipeline = MonoPipeline(targetRate: targetRate, maxSeconds: limits.maxSeconds, expectedSeconds: seconds)
        let block = 16_384  // frames per step: the interleaved copy and its mean stay in cache
        var interleaved = [Float](repeating: 0, count: block * channels)
        var mono = [Float](repeating: 0, count: block)
        var start = 0
        while start < frames {
            let n = min(block, frames - start)
            interleaved.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[(start * frameBytes)..<((start + n) * frameBytes)])) }
            let finite = interleaved.withUnsafeBufferPointer { i in
                mono.withUnsafeMutableBufferPointer { m in
                    DownMix.mono(interleaved: UnsafeBufferPointer(rebasing: i[0..<(n * channels)]), channels: channels,
                                 into: UnsafeMutableBufferPointer(rebasing: m[0..<n]))
                }
            }
            guard finite else {
                guard let bad = interleaved[0..<(n * channels)].firstIndex(where: { !$0.isFinite }) else {
                    let frame = start + (mono[0..<n].firstIndex { !$0.isFinite } ?? 0)
                    throw .invalidPCM("the mean of the channels of frame \(frame) overflows (samples near Float's largest)")
                }
                let index = start * channels + bad
                throw .invalidPCM("sample \(index) (frame \(index / channels), channel \(index % channels)) is \(interleaved[bad].isNaN ? "NaN" : "infinite")")
            }
            try mono.withUnsafeBufferPointer { (m) throws(AudioError) in try pipeline.append(UnsafeBufferPointer(rebasing: m[0..<n]), rate: sampleRate) }
            start += n
        }
        return try pipeline.finish()
    }

    /// `mono(pcmF32:sampleRate:channels:limits:targetRate:)` over interleaved samples.
    public static func mono(interleaved samples: [Float], sampleRate: Int, channels: Int,
                            limits: AudioLimits = AudioLimits(), targetRate: Int = 16_000) throws(AudioError) -> [Float] {
        try samples.withUnsafeBytes { raw in
            Result { () throws(AudioError) in
                try mono(pcmF32: raw, sampleRate: sampleRate, channels: channels, limits: limits, targetRate: targetRate)
            }
        }.get()
    }
}
