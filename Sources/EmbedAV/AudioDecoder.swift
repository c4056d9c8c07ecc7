import CFFmpeg

/// Decodes encoded audio (see `AudioFormats` for the containers and codecs), or the sound track of
/// a video, from memory or a descriptor (`MediaSource`) into `DecodedAudio`: one channel, the mean of the source's channels, resampled to `targetRate`
/// (16 kHz by default, what Whisper takes) by swresample's soxr engine (`SoxrResampler`).
///
/// Hostile input is expected. Checks, in order: the byte count; the probed format against the
/// allow-list and the declared MIME type; a WAV header's channel count and sample rate; the
/// header's channels, rate and duration (`AudioLimits`), before anything is decoded; then the
/// duration of what is decoded, stopping as soon as it passes the limit.
///
/// Damage: a packet the demuxer or decoder rejects makes the file `corrupt` (the ffmpeg command
/// line logs such a packet and goes on; a damaged file here is refused whole, never embedded with a
/// gap). Data that runs out makes it `truncated`: a box past the end of an MP4, a Matroska Segment
/// larger than the bytes, an Ogg file not ending in a whole end-of-stream page (all three read by
/// EmbedAV before FFmpeg opens the file), a packet cut short (WAV, AIFF), a last packet that does
/// not decode (FLAC, ADTS AAC), or audio ending before the duration the header declares, less
/// 0.1 s and 1 % for encoder padding (MP3 with a Xing header, WebM). Audio ending early in a
/// container whose structure shows every byte is there is damage: `corrupt`. A cut exactly between
/// frames of a stream that declares no length (an MP3 without a Xing header, ADTS AAC, a
/// recorder's WebM of unknown size) cannot be told from a shorter file and decodes as one.
///
/// A video: the best audio stream is decoded (`Demuxer`), the picture tracks are skipped unread by
/// any decoder; a video without one throws `noAudioStream`, which a caller embedding a film's
/// sound reports as "no sound" rather than as a failure.
///
/// Thread-safe: each call owns its FFmpeg contexts; calls may run concurrently.
public enum AudioDecoder {
    /// The media types `decode` takes as a declared type (each names containers it opens;
    /// generic types such as application/octet-stream are accepted too and sniffed).
    public static let mimeTypes: [String] = AudioFormats.containersByMIME.keys.sorted()

    /// Decodes `bytes`.
    /// - Parameters:
    ///   - mimeType: the declared type; a known type of another container than the bytes are
    ///     (audio/wav on MP3 bytes) is refused as mislabelled, generic types pass.
    ///   - targetRate: the rate of the result, in `AudioLimits.sampleRates`.
    public static func decode(bytes: UnsafeRawBufferPointer, mimeType: String? = nil, limits: AudioLimits = AudioLimits(),
                              targetRate: Int = 16_000) throws(AudioError) -> DecodedAudio {
        guard !bytes.isEmpty else { throw .emptyInput }
        guard bytes.count <= limits.maxInputBytes else { throw .tooManyBytes(count: bytes.count, limit: limits.maxInputBytes) }
        guard let input = MediaInput(.borrowed(bytes)) else { throw .resourceFailure("avio_alloc_context") }
        return try decode(input, mimeType: mimeType, limits: limits, targetRate: targetRate)
    }

    /// Decodes the audio in `source`: bytes, or a descriptor read with `pread` (never copied
    /// whole, never closed), so the sound track of an hour of video is read in place.
    /// - Parameters: as `decode(bytes:mimeType:limits:targetRate:)`; `limits.maxInputBytes`
    ///   bounds a descriptor's size too.
    public static func decode(_ source: MediaSource, mimeType: String? = nil, limits: AudioLimits = AudioLimits(),
                              targetRate: Int = 16_000) throws(AudioError) -> DecodedAudio {
        guard source.count > 0 else { throw .emptyInput }
        guard source.count <= Int64(limits.maxInputBytes) else {
            throw .tooManyBytes(count: Int(clamping: source.count), limit: limits.maxInputBytes)
        }
        guard let input = MediaInput(source) else { throw .resourceFailure("avio_alloc_context") }
        return try decode(input, mimeType: mimeType, limits: limits, targetRate: targetRate)
    }

    private static func decode(_ input: MediaInput, mimeType: String?, limits: AudioLimits,
                               targetRate: Int) throws(AudioError) -> DecodedAudio {
        guard AudioLimits.sampleRates.contains(targetRate) else { throw .badSampleRate(container: "requested", rate: targetRate) }
        let demuxer = try Demuxer(input: input, mimeType: mimeType)
        let label = demuxer.container.label
        if let declared = demuxer.declaredSeconds, declared > limits.maxSeconds {
            throw .tooLong(seconds: declared, limit: limits.maxSeconds, declared: true)
        }
        let decoder = try StreamDecoder(demuxer)
        var pipeline = MonoPipeline(targetRate: targetRate, maxSeconds: limits.maxSeconds, expectedSeconds: demuxer.declaredSeconds)
        var first: (rate: Int, channels: Int)? = nil
        var mono: [Float] = []

        /// Takes every frame the decoder has ready; the decoder's error code otherwise.
        func drain() throws(AudioError) -> Int32 {
            while true {
                let received = decoder.receive()
                if received == FFmpeg.again || received == FFmpeg.eof { return 0 }
                if received < 0 { return received }
                defer { av_frame_unref(decoder.frame) }
                let frame = decoder.frame.pointee
                let rate = Int(frame.sample_rate), channels = Int(frame.ch_layout.nb_channels)
                guard AudioLimits.sampleRates.contains(rate) else { throw .badSampleRate(container: label, rate: rate) }
                guard AudioLimits.channelCounts.contains(channels) else { throw .badChannelCount(container: label, count: channels) }
                if frame.flags & AV_FRAME_FLAG_CORRUPT != 0 {
                    throw .corrupt(container: label, detail: "the decoder marks the frame at \(AudioError.format(pipeline.seconds)) s as damaged")
                }
                guard DownMix.mono(decoder.frame, into: &mono) else {
                    throw .corrupt(container: label, detail: "a sample near \(AudioError.format(pipeline.seconds)) s is NaN or infinite")
                }
                if first == nil { first = (rate, channels) }
                try mono.withUnsafeBufferPointer { (m) throws(AudioError) in try pipeline.append(m, rate: rate) }
            }
        }

        guard let packet = av_packet_alloc() else { throw .resourceFailure("av_packet_alloc") }
        defer { var freeing: UnsafeMutablePointer<AVPacket>? = packet; av_packet_free(&freeing) }
        var failure: (code: Int32, at: Double)? = nil  // a decoding error not yet known to be in the last packet
        var cutShort: Double? = nil
        var packets = 0
        while true {
            let read = av_read_frame(demuxer.context, packet)
            if read == FFmpeg.eof { break }
            if read < 0 {
                throw demuxer.failure(read, doing: "reading the packet at \(AudioError.format(pipeline.seconds)) s")
            }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == demuxer.stream.pointee.index else { continue }
            if let failure {  // more packets follow a packet that failed: damage, not an early end
                let reason = demuxer.messages.take() ?? FFmpeg.describe(failure.code)
                throw .corrupt(container: label, detail: "decoding fails at \(AudioError.format(failure.at)) s: \(reason)")
            }
            packets += 1
            if packet.pointee.flags & AV_PKT_FLAG_CORRUPT != 0 {
                guard demuxer.reachedEnd else {
                    throw .corrupt(container: label, detail: "the packet at \(AudioError.format(pipeline.seconds)) s is damaged")
                }
                cutShort = cutShort ?? pipeline.seconds
            }
            var code = decoder.send(packet)
            if code == FFmpeg.again {  // frames are waiting (not after a full drain, but allowed): take them, resend
                code = try drain()
                if code >= 0 { code = decoder.send(packet) }
            }
            if code >= 0 { code = try drain() }
            if code < 0 {
                if code == FFmpeg.outOfMemory { throw .resourceFailure("decoding") }
                failure = (code, pipeline.seconds)
            }
        }
        if failure == nil {
            var code = decoder.send(nil)
            if code >= 0 { code = try drain() }
            if code < 0 && code != FFmpeg.eof { failure = (code, pipeline.seconds) }
        }
        let decodedSeconds = pipeline.seconds
        /// The data running out early: a cut file, unless the container showed all its bytes are there.
        func endsEarly(_ detail: String) -> AudioError {
            demuxer.structurallyComplete ? .corrupt(container: label, detail: detail + ", though the file is complete")
                                         : .truncated(container: label, detail: detail)
        }
        if let failure {
            let reason = demuxer.messages.take() ?? FFmpeg.describe(failure.code)
            throw endsEarly("the last packet, at \(AudioError.format(failure.at)) s, does not decode (\(reason))")
        }
        if let cutShort {
            throw endsEarly("the data ends inside the packet at \(AudioError.format(cutShort)) s")
        }
        guard let first else {
            throw .corrupt(container: label, detail: packets == 0 ? "no audio packets" : "no decodable audio frames in \(packets) packets")
        }
        if let declared = demuxer.declaredSeconds, decodedSeconds < declared * 0.99 - 0.1 {
            throw endsEarly("the audio ends at \(AudioError.format(decodedSeconds)) s of the \(AudioError.format(declared)) s its header declares")
        }
        let samples = try pipeline.finish()
        return DecodedAudio(samples: samples, sampleRate: targetRate, sourceSampleRate: first.rate, sourceChannels: first.channels,
                            codec: String(cString: avcodec_get_name(demuxer.stream.pointee.codecpar.pointee.codec_id)),
                            container: label)
    }

    /// `decode(bytes:mimeType:limits:targetRate:)` over an array.
    public static func decode(bytes: [UInt8], mimeType: String? = nil, limits: AudioLimits = AudioLimits(),
                              targetRate: Int = 16_000) throws(AudioError) -> DecodedAudio {
        // Array.withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
        try bytes.withUnsafeBytes { raw in
            Result { () throws(AudioError) in try decode(bytes: raw, mimeType: mimeType, limits: limits, targetRate: targetRate) }
        }.get()
    }
}
