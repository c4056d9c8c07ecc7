import CFFmpeg
import EmbedSys

/// Reads sampled frames of one video as RGB (see `FrameSampling` for which and when), from bytes
/// or a descriptor (`MediaSource`), for FFmpeg's H.264, H.265, VP8, VP9, AV1, MPEG-4, MPEG-1/2,
/// Theora and MJPEG decoders in MP4/MOV, Matroska/WebM, AVI, MPEG-TS, MPEG-PS, FLV and Ogg
/// (`VideoFormats`). `init` opens the container and checks every limit its headers allow
/// (`VideoContainer`); `frames` decodes.
///
/// Each sampled frame is the first frame at or after its time in the decode of the whole video,
/// and equals, byte for byte, what `ffmpeg -ss T -i FILE -frames:v 1 -pix_fmt rgb24 -f rawvideo -`
/// writes: the same seek (`avformat_seek_file` to the keyframe at or before T, 3/23 s earlier for
/// containers that seek by decoding time), the same frame (the first whose best-effort timestamp
/// is at or after T, rounded to the stream's time base), the same autorotate and the same
/// libswscale conversion (`FrameConverter`). Two cases where the command line's own seek goes
/// wrong are corrected by seeking again, a keyframe (or 1 s, doubling) further back, at most six
/// times: a seek that lands past T (MPEG-TS and MPEG-PS have no keyframe index, and FFmpeg's
/// timestamp search lands after the keyframe before T, so the decoder waits for the next), and one
/// from which the decoder reports damage (a picture flagged as a keyframe that is not a clean
/// entry point).
///
/// Spread-out samples are found by seeking, so an hour of video is not decoded frame by frame for
/// 16 frames; when the next sample lies before the next keyframe (the container's index says so,
/// or, without one, the spacing of keyframes seen so far is wider than the step), decoding goes
/// on from where it is.
///
/// Damage: a packet the decoder rejects is skipped and decoding goes on, as the command line
/// does (a frame may show the damage); a video of which no frame decodes is `corrupt`; one whose
/// frames end long before its declared duration, in a container whose structure cannot show
/// it complete, is `truncated`.
///
/// One per video; not for sharing between threads (it may be created on one thread and used on
/// another, one at a time). The decoder runs `threads` threads of its own.
public final class VideoReader {
    /// What the headers say.
    /// The media types `init` takes as a declared type (each names containers it opens;
    /// generic types such as application/octet-stream and video/* pass too and are sniffed).
    public static let mimeTypes: [String] = VideoFormats.containersByMIME.keys.sorted()

    public let info: VideoInfo
    private let container: VideoContainer
    private let decoder: VideoDecoder
    private let converter = FrameConverter()
    private let limits: VideoLimits
    private let packet: UnsafeMutablePointer<AVPacket>
    /// The newest frame decoded before the current one, kept for the end of the stream.
    private let held: UnsafeMutablePointer<AVFrame>
    /// The decoder has been handed the end of the stream (it must be flushed to decode again).
    private var draining = false
    /// Whether a `frames` call has read packets (a later one starts from the beginning again).
    private var used = false

    /// Opens and probes the video and checks the limits its headers allow.
    /// - Parameters:
    ///   - mimeType: the declared type; a known type of another container than the bytes are is
    ///     refused as mislabelled, generic types (application/octet-stream, video/*) pass.
    ///   - threads: the decoder's threads (frame and slice threading); 0 lets FFmpeg choose
    ///     (one per core, plus one), 1 decodes on the calling thread only.
    public init(_ source: MediaSource, mimeType: String? = nil, limits: VideoLimits = VideoLimits(),
                threads: Int = 0) throws(VideoError) {
        container = try VideoContainer(source, mimeType: mimeType, limits: limits)
        info = container.info
        self.limits = limits
        decoder = try VideoDecoder(stream: container.stream, codec: container.codec, threads: threads,
                                   maxPixels: limits.maxPixels, messages: container.messages, container: container.label)
        guard let packet = av_packet_alloc() else { throw .resourceFailure("av_packet_alloc") }
        guard let held = av_frame_alloc() else {
            var freeing: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&freeing)
            throw .resourceFailure("av_frame_alloc")
        }
        self.packet = packet
        self.held = held
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = held
        av_frame_free(&frame)
        var packet: UnsafeMutablePointer<AVPacket>? = self.packet
        av_packet_free(&packet)
    }

    /// The times `sampling` asks for in this video, ascending (nil for `.scenes`, whose frames
    /// are found while decoding), or nil when the parameters are invalid or ask for more frames
    /// than `limits.maxFrames` (`frames` throws why).
    public func plannedTimes(_ sampling: FrameSampling) -> [Double]? {
        guard (try? sampling.validate()) != nil, sampling.frameCount(duration: info.duration) <= limits.maxFrames else { return nil }
        return sampling.times(duration: info.duration)
    }

    /// Decodes the sampled frames in time order, handing each to `onFrame` as soon as it is
    /// converted: memory holds one decoded frame, one converted frame and the decoder's own,
    /// never all frames at once. Uniform and interval sampling hand over exactly
    /// `plannedTimes(sampling).count` frames, one per planned time (the same frame twice when
    /// two times fall before the same frame); scene sampling at most its `maxFrames`.
    /// - Parameters:
    ///   - shouldStop: polled between packets; true stops with `VideoError.cancelled`.
    ///   - progress: the fraction done, 0...1, after each frame handed over (scene sampling:
    ///     the position in the video, at most every 1 %).
    ///   - onFrame: takes each frame; an error it throws ends decoding and is rethrown.
    public func frames(_ sampling: FrameSampling, shouldStop: () -> Bool = { false }, progress: (Double) -> Void = { _ in },
                       onFrame: (VideoFrame) throws(VideoError) -> Void) throws(VideoError) {
        try sampling.validate()
        let count = sampling.frameCount(duration: info.duration)
        guard count <= limits.maxFrames else { throw .tooManyFrames(requested: count, limit: limits.maxFrames) }
        let started = Clock.monotonicSeconds()
        var run = Run(deadline: started + limits.maxDecodeSeconds, started: started, limit: limits.maxDecodeSeconds)
        if let times = sampling.times(duration: info.duration) {
            try sample(at: times, run: &run, shouldStop: shouldStop, progress: progress, onFrame: onFrame)
        } else if case .scenes(let threshold, let maxFrames) = sampling {
            try scenes(threshold: threshold, maxFrames: maxFrames, run: &run, shouldStop: shouldStop, progress: progress,
                       onFrame: onFrame)
        }
    }

    // MARK: Sampling at planned times

    /// A planned time in the stream's time base: the first frame at or after `threshold` answers
    /// it; `seekTarget` is where the command line's seek aims.
    private struct Target {
        let time: Double
        let threshold: Int64
        let seekTarget: Int64
    }

    private func sample(at times: [Double], run: inout Run, shouldStop: () -> Bool, progress: (Double) -> Void,
                        onFrame: (VideoFrame) throws(VideoError) -> Void) throws(VideoError) {
        let base = container.stream.pointee.time_base
        let microseconds = AVRational(num: 1, den: Int32(AV_TIME_BASE))
        let early: Int64 = container.seeksEarly ? 3 * Int64(AV_TIME_BASE) / 23 : 0
        let targets = times.map { t -> Target in
            // -ss parses its argument to whole microseconds and adds the container's start time.
            let at = Int64((t * 1e6).rounded()) + container.startMicroseconds
            return Target(time: t, threshold: av_rescale_q(at, microseconds, base),
                          seekTarget: av_rescale(at - early, Int64(base.den), Int64(AV_TIME_BASE) * Int64(base.num)))
        }
        var position: Int64? = nil         // the newest frame decoded since the last seek
        var last: (pts: Int64, frame: VideoFrame)? = nil  // the newest frame converted
        av_frame_unref(held)
        // Seeks aim no further back than 2 s before the stream's first timestamp (its start, for
        // any container: some search by decoding time, which starts before the first frame's).
        let stream = container.stream.pointee
        let second = av_rescale(1, Int64(stream.time_base.den), Int64(stream.time_base.num))
        let first = stream.start_time == FFmpeg.noTimestamp ? Int64.min : stream.start_time
        let floor = first == Int64.min ? Int64.min : first.subtractingReportingOverflow(2 * second).partialValue
        var i = 0
        // Freshly opened, the demuxer stands at the file's start: a first target whose keyframe
        // is the stream's first is reached by decoding from there. Seeking instead can land on a
        // frame that is no clean entry point (an AVI of B-frames seeks by decoding time; the
        // command line's -ss then shows a B-frame decoded without its references).
        while i < targets.count {
            let target = targets[i]
            var aim = target.seekTarget     // where the last seek for this target aimed
            var sinceSeek: Int? = nil       // frames decoded since that seek
            var retries = 0
            var retreat: Int64 = 0
            // `used`: a packet has been read (the demuxer no longer stands at the file's start).
            let fromStart = !used && !draining && reachedFromStart(target)
            if !fromStart && shouldSeek(to: target, from: position, run: run) {
                if seek(to: aim, run: &run) { sinceSeek = 0 }
                position = nil
            }
            var found = false
            while try nextFrame(&run, shouldStop) {
                let pts = decoder.frame.pointee.best_effort_timestamp
                if pts == FFmpeg.noTimestamp {  // a frame that cannot be placed in time
                    av_frame_unref(decoder.frame)
                    continue
                }
                sinceSeek = sinceSeek.map { $0 + 1 }
                if pts >= target.threshold, let frames = sinceSeek, retries < 6, aim > floor {
                    // A seek that landed past the target (a container without a keyframe index,
                    // MPEG-TS or MPEG-PS, whose search found a packet after the last keyframe
                    // before it, so the decoder waited for the next), or one from which the
                    // decoder reported damage (a keyframe flag on a picture that is not a clean
                    // entry point, as in python3-imageio's cockatoo.mp4): seek again, a keyframe
                    // further back, as decoding from the start would show the frame (for damage at
                    // most 3 times: a file that reports errors everywhere is decoded as it is).
                    let overshot = frames == 1 && pts > target.threshold
                    if overshot || (retries < 3 && container.messages.take() != nil) {
                        retries += 1
                        aim = max(earlier(than: aim, target: target, retreat: &retreat, run: run), floor)
                        av_frame_unref(decoder.frame)
                        sinceSeek = seek(to: aim, run: &run) ? 0 : nil
                        position = nil
                        continue
                    }
                }
                position = pts
                av_frame_unref(held)
                av_frame_move_ref(held, decoder.frame)
                if pts >= target.threshold {
                    found = true
                    break
                }
            }
            guard held.pointee.buf.0 != nil else {
                throw endFailure("no frame of the video decodes", run: run)
            }
            let pts = held.pointee.best_effort_timestamp
            if !found {  // the stream ended before the planned times left: its last frame answers them
                // Unless the frames end well before the stream's own declared length (an AVI's
                // header counts its frames) in a container whose structure cannot show it complete.
                let shown = seconds(pts), latest = targets[targets.count - 1].time
                let gap = max(0.5, 5 / (info.frameRate ?? 25))
                if !container.structurallyComplete, container.streamDeclaresDuration, latest > shown + gap, shown < 0.9 * info.duration {
                    throw endFailure("the frames end at \(AudioError.format(shown)) s of the \(AudioError.format(info.duration)) s its header declares",
                                     run: run, cut: true)
                }
            }
            let frame: VideoFrame
            if let last, last.pts == pts {
                frame = last.frame
            } else {
                frame = try convert(held, pts: pts)
                last = (pts, frame)
            }
            while i < targets.count && (targets[i].threshold <= pts || !found) {
                try onFrame(frame)
                i += 1
                progress(Double(i) / Double(targets.count))
            }
        }
    }

    /// Whether `target` lies before the stream's second keyframe (per the container's index),
    /// or, without an index, within 2 s of the stream's start: decoding from the file's start
    /// reaches it as soon as a seek would.
    private func reachedFromStart(_ target: Target) -> Bool {
        let stream = container.stream.pointee
        if container.keyframeIndex {
            guard let first = avformat_index_get_entry(container.stream, 0)?.pointee.timestamp else { return false }
            return keyframe(atOrBefore: target.seekTarget).map { $0 <= first } ?? true
        }
        guard stream.start_time != FFmpeg.noTimestamp else { return false }
        return target.threshold - stream.start_time <= av_rescale(2, Int64(stream.time_base.den), Int64(stream.time_base.num))
    }

    /// Whether reaching `target` from `position` is cheaper by seeking: always after a seek that
    /// found nothing yet or at the start; otherwise when a keyframe lies between them (the
    /// container's index says where its keyframes are), or, without an index, when the target is
    /// further ahead than the widest keyframe spacing seen (2 s until one is seen).
    private func shouldSeek(to target: Target, from position: Int64?, run: Run) -> Bool {
        guard let position, !draining else { return position == nil }
        let stream = container.stream
        if let keyframe = keyframe(atOrBefore: target.seekTarget) { return keyframe > position }
        let base = stream.pointee.time_base
        let gap = run.keyframes.widest ?? av_rescale(2, Int64(base.den), Int64(base.num))
        return target.threshold - position > gap
    }

    /// The timestamp of the last keyframe at or before `timestamp` in the container's index, when
    /// it has one that lists keyframes (MP4's sync samples, Matroska's cues, AVI's index, and what
    /// FFmpeg learns reading FLV and Ogg). MPEG-TS and MPEG-PS have none: FFmpeg's timestamp search
    /// indexes every packet it meets there as a keyframe.
    private func keyframe(atOrBefore timestamp: Int64) -> Int64? {
        guard container.keyframeIndex else { return nil }
        let found = av_index_search_timestamp(container.stream, timestamp, AVSEEK_FLAG_BACKWARD)
        guard found >= 0, let entry = avformat_index_get_entry(container.stream, found) else { return nil }
        return entry.pointee.timestamp
    }

    /// `avformat_seek_file` to the keyframe at or before `timestamp`, as the command line calls
    /// it; the decoder is flushed. False when the container cannot seek there (decoding then goes
    /// on from where it is).
    private func seek(to timestamp: Int64, run: inout Run) -> Bool {
        let sought = avformat_seek_file(container.context, container.stream.pointee.index, Int64.min, timestamp, timestamp, 0)
        guard sought >= 0 else {
            _ = container.messages.take()
            return false
        }
        decoder.flush()
        draining = false
        _ = container.messages.take()  // what the decoder reports from here on is about this seek
        run.keyframes.reset()
        return true
    }

    /// A seek target before `aim`: the keyframe before the one `aim` lands on, where the
    /// container's index knows its keyframes; else `retreat` further back than the target (1 s,
    /// or the widest keyframe spacing seen, doubling on each call).
    private func earlier(than aim: Int64, target: Target, retreat: inout Int64, run: Run) -> Int64 {
        let stream = container.stream
        if let landing = keyframe(atOrBefore: aim) {
            return keyframe(atOrBefore: landing - 1) ?? Int64.min  // none before: the start
        }
        let base = stream.pointee.time_base
        let second = av_rescale(1, Int64(base.den), Int64(base.num))
        retreat = retreat == 0 ? max(second, run.keyframes.widest ?? 0) : retreat.multipliedReportingOverflow(by: 2).partialValue
        let (earlier, overflow) = target.seekTarget.subtractingReportingOverflow(retreat)
        return overflow || retreat < 0 ? Int64.min : earlier
    }

    // MARK: Scene sampling

    private func scenes(threshold: Double, maxFrames: Int, run: inout Run, shouldStop: () -> Bool, progress: (Double) -> Void,
                        onFrame: (VideoFrame) throws(VideoError) -> Void) throws(VideoError) {
        if used || draining {
            let stream = container.stream.pointee
            let first = stream.start_time == FFmpeg.noTimestamp ? 0 : stream.start_time
            if !seek(to: first, run: &run) { throw .resourceFailure("the \(container.label) file cannot seek back to its start for a second pass") }
        }
        let detector = SceneDetector()
        var handed = 0, decoded = 0
        var reported = 0.0
        while handed < maxFrames, try nextFrame(&run, shouldStop) {
            defer { av_frame_unref(decoder.frame) }
            let pts = decoder.frame.pointee.best_effort_timestamp
            guard pts != FFmpeg.noTimestamp, let score = detector.score(decoder.frame) else { continue }
            decoded += 1
            if handed == 0 || score > threshold {
                try onFrame(try convert(decoder.frame, pts: pts))
                handed += 1
            }
            let done = info.duration > 0 ? min(1, max(0, seconds(pts) / info.duration)) : 0
            if done >= reported + 0.01 {
                reported = done
                progress(done)
            }
        }
        guard handed > 0 else { throw endFailure("no frame of the video decodes", run: run) }
        progress(1)
    }

    // MARK: Decoding

    /// What one `frames` call tracks: its deadline, cancellation, and the keyframe spacing seen.
    private struct Run {
        let deadline: Double
        let started: Double
        let limit: Double
        var keyframes = KeyframeSpacing()
        /// The demuxer's last error other than the end of the data.
        var readError: Int32? = nil
        /// Packets the decoder rejected.
        var rejected = 0

        func check(_ shouldStop: () -> Bool) throws(VideoError) {
            if shouldStop() { throw .cancelled }
            let now = Clock.monotonicSeconds()
            if now > deadline { throw .decodeTimeout(seconds: now - started, limit: limit) }
        }
    }

    /// The widest spacing between consecutive keyframe packets read without a seek between.
    struct KeyframeSpacing {
        private var previous: Int64? = nil
        private(set) var widest: Int64? = nil

        mutating func saw(_ timestamp: Int64) {
            if let previous, timestamp > previous { widest = max(widest ?? 0, timestamp - previous) }
            previous = timestamp
        }

        mutating func reset() { previous = nil }
    }

    /// Decodes until the decoder hands over a frame (in `decoder.frame`): true, or false at the
    /// end of the stream. Reads packets of the chosen stream as the decoder asks for them,
    /// checking cancellation and the deadline before each.
    private func nextFrame(_ run: inout Run, _ shouldStop: () -> Bool) throws(VideoError) -> Bool {
        var failures = 0
        while true {
            let received = decoder.receive()
            if received >= 0 {
                if let failure = checkFrame() { throw failure }
                return true
            }
            if received == FFmpeg.eof { return false }
            if received == FFmpeg.outOfMemory { throw .resourceFailure("decoding a frame") }
            if received != FFmpeg.again {  // a damaged frame: go on, as the command line does
                run.rejected += 1
                failures += 1
                if failures < 1_000 { continue }
                return false
            }
            if draining { return false }
            try run.check(shouldStop)
            used = true
            let read = av_read_frame(container.context, packet)
            if read < 0 {
                if let failure = container.input.readFailure { throw .unreadable("reading a packet: \(failure)") }
                if read == FFmpeg.outOfMemory { throw .resourceFailure("reading a packet") }
                if read != FFmpeg.eof { run.readError = read }
                draining = true
                _ = decoder.send(nil)
                continue
            }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == container.stream.pointee.index else { continue }
            if packet.pointee.flags & AV_PKT_FLAG_KEY != 0 {
                let at = packet.pointee.pts != FFmpeg.noTimestamp ? packet.pointee.pts : packet.pointee.dts
                if at != FFmpeg.noTimestamp { run.keyframes.saw(at) }
            }
            let sent = decoder.send(packet)
            if sent == FFmpeg.outOfMemory { throw .resourceFailure("decoding a packet") }
            if sent < 0 && sent != FFmpeg.again { run.rejected += 1 }
        }
    }

    /// A decoded frame larger than the limit (a stream that changes size mid-way) or without a
    /// picture.
    private func checkFrame() -> VideoError? {
        let f = decoder.frame.pointee
        let width = Int(f.width), height = Int(f.height)
        if width <= 0 || height <= 0 {
            return .corrupt(container: container.label, detail: "a decoded frame has no picture (\(width)x\(height))")
        }
        if width * height > limits.maxPixels { return .tooLarge(width: width, height: height, limit: limits.maxPixels) }
        return nil
    }

    /// The frame turned and converted to RGB, timed on the -ss clock.
    private func convert(_ frame: UnsafeMutablePointer<AVFrame>, pts: Int64) throws(VideoError) -> VideoFrame {
        let orientation = Orientation(matrix: Orientation.matrix(of: frame) ?? Orientation.matrix(of: container.stream))
        return try converter.rgb(frame, orientation: orientation, time: seconds(pts), container: container.label)
    }

    /// A timestamp of the stream in seconds on the -ss clock.
    private func seconds(_ pts: Int64) -> Double {
        let base = container.stream.pointee.time_base
        return Double(pts) * Double(base.num) / Double(base.den) - Double(container.startMicroseconds) / 1e6
    }

    /// Why the frames ran out: a truncated file when the data ended early (or `cut`) in a
    /// container whose structure cannot show it complete, else a corrupt one, with FFmpeg's last word.
    private func endFailure(_ detail: String, run: Run, cut: Bool = false) -> VideoError {
        let reason = container.messages.take().map { " (FFmpeg: \($0))" } ?? ""
        let rejected = run.rejected > 0 ? "; the decoder rejected \(run.rejected) packets" : ""
        if !container.structurallyComplete && (cut || container.reachedEnd && run.readError != nil) {
            return .truncated(container: container.label, detail: detail + rejected + reason)
        }
        return .corrupt(container: container.label, detail: detail + rejected + reason)
    }
}
