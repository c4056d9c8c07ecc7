import CEmbedABI
import EmbedAV
import EmbedPluginKit

/// One `embed` call: each video on its own (a bad file fails alone, naming the problem). Its
/// sampled frames are decoded in time order, converted to RGB and sent `frame_batch` at a time
/// to the frames model through the host (`embed_with`), which pre-processes them exactly as
/// still pictures; the video's vector is the mean of the frames' normalised vectors, normalised
/// again. With segments requested, a second pass samples `segment_frames` frames per
/// `segment_seconds` window and each window's vector is the normalised mean of its frames'.
struct VideoEmbedCall {
    let model: VideoModel
    let batch: EmbedBatch

    func run() throws(PluginError) {
        for i in 0..<batch.count {
            if batch.cancellation.isRequested { throw .cancelled }
            guard let source = source(i) else { continue }
            let mimeType = batch.inputs[i].mime_type.map { String(cString: $0) }
            do {
                try embed(i, source, mimeType: mimeType)
            } catch let failure as InputFailure {
                batch.fail(i, failure.status, failure.message)
            } catch let e as PluginError {
                throw e
            } catch {
                batch.fail(i, EMBEDD_ERR_INTERNAL, "\(error)")
            }
        }
    }

    /// One input's failure (the others go on).
    struct InputFailure: Error {
        let status: embedd_status
        let message: String
    }

    /// Where input `i` is read from, or nil after failing it: an open file (read in place) or
    /// encoded bytes (copied once, within `max_input_bytes`).
    private func source(_ i: Int) -> MediaSource? {
        let input = batch.inputs[i]
        switch input.kind {
        case EMBEDD_INPUT_FD.rawValue:
            return .descriptor(fd: Int32(bitPattern: input.reserved), size: Int64(input.size))
        case EMBEDD_INPUT_ENCODED.rawValue:
            guard input.size <= model.options.maxInputBytes else {
                batch.fail(i, EMBEDD_ERR_TOO_LARGE, "the video is \(input.size) bytes; max_input_bytes is \(model.options.maxInputBytes) (pass the file instead: it is read in place)")
                return nil
            }
            guard input.size > 0, let data = input.data else {
                batch.fail(i, EMBEDD_ERR_INVALID_INPUT, "empty input: zero bytes of video")
                return nil
            }
            return .bytes(Array(UnsafeBufferPointer(start: data, count: input.size)))
        default:
            batch.fail(i, EMBEDD_ERR_UNSUPPORTED_INPUT, "the video plugin takes encoded video (bytes or an open file), not input kind \(input.kind)")
            return nil
        }
    }

    private func embed(_ i: Int, _ source: MediaSource, mimeType: String?) throws -> Void {
        let dim = model.frames.dimension
        let started = ContinuousClock.now
        var timing = Timing()
        defer {
            // One line per video at info level: where its time went (bench/video reads it).
            let total = seconds(started.duration(to: .now))
            model.host.log(EMBEDD_LOG_INFO, "video: \(timing.frames) frames of a \(VideoEmbedCall.format(timing.duration))-s \(timing.label): "
                           + "decode_s=\(VideoEmbedCall.format(total - timing.framesModel)) frames_model_s=\(VideoEmbedCall.format(timing.framesModel)) total_s=\(VideoEmbedCall.format(total))")
        }
        let summary = try pass(source, mimeType: mimeType, sampling: model.options.sampling, window: nil, timing: &timing)
        guard let whole = summary.first?.value, whole.count > 0 else {
            throw InputFailure(status: EMBEDD_ERR_INVALID_INPUT, message: "no frame of the video could be decoded at the sampled times")
        }
        whole.normalised(into: batch.output(row: i, dim: dim))
        guard batch.wantsSegments else { return }
        let windowLength = model.options.segmentSeconds
        let windows = try pass(source, mimeType: mimeType, sampling: model.options.segmentSampling, window: windowLength, timing: &timing)
        var vector = [Float](repeating: 0, count: dim)
        let duration = windows.duration
        for k in windows.keys.sorted() {
            guard let w = windows[k], w.count > 0 else { continue }
            let start = Double(k) * windowLength
            let end = min(Double(k + 1) * windowLength, max(duration, start + 0.001))
            vector.withUnsafeMutableBufferPointer { w.normalised(into: $0.baseAddress!) }
            let accepted = vector.withUnsafeBufferPointer { batch.emitSegment(input: i, start: start, end: end, vector: $0.baseAddress!) }
            guard accepted else { throw PluginError(EMBEDD_ERR_RESOURCE, "the host refused more segments (its per-call limit)") }
        }
    }

    /// Sums of normalised frame vectors by window (one window, key 0, when `window` is nil),
    /// and the video's duration.
    private struct Sums {
        var byWindow: [Int: FrameSum] = [:]
        var duration: Double = 0
        var first: (key: Int, value: FrameSum)? { byWindow.first }
        var keys: Dictionary<Int, FrameSum>.Keys { byWindow.keys }
        subscript(_ k: Int) -> FrameSum? { byWindow[k] }
    }

    /// Where one video's time went.
    private struct Timing {
        var frames = 0
        var framesModel = 0.0
        var duration = 0.0
        var label = "video"
    }

    /// Decodes the frames `sampling` picks and embeds them in batches.
    private func pass(_ source: MediaSource, mimeType: String?, sampling: FrameSampling, window: Double?,
                      timing: inout Timing) throws -> Sums {
        let reader: VideoReader
        do { reader = try VideoReader(source, mimeType: mimeType, limits: model.options.limits, threads: model.options.threads) } catch {
            throw VideoEmbedCall.failure(error)
        }
        var sums = Sums(duration: reader.info.duration)
        timing.duration = reader.info.duration
        timing.label = "\(reader.info.container) (\(reader.info.codec) \(reader.info.width)×\(reader.info.height))"
        var spent = 0.0, count = 0
        var pending: [VideoFrame] = []
        var stopped: (any Error)? = nil
        let cancellation = batch.cancellation
        func flush() throws {
            guard !pending.isEmpty else { return }
            let frames = pending
            pending.removeAll(keepingCapacity: true)
            let t0 = ContinuousClock.now
            let result = try model.host.embed(with: model.frames, frames.map { .rgb8($0.rgb, width: $0.width, height: $0.height) },
                                              cancellation: cancellation)
            spent += seconds(t0.duration(to: .now))
            count += frames.count
            for (k, frame) in frames.enumerated() {
                if let f = result.failures[k] {
                    throw InputFailure(status: embedd_status(rawValue: UInt32(bitPattern: f.status)),
                                       message: "the frame at \(VideoEmbedCall.format(frame.time)) s: model '\(model.frames.name)': \(f.message)")
                }
                let key = window.map { Int((frame.time / $0).rounded(.down)) } ?? 0
                sums.byWindow[key, default: FrameSum(dimension: model.frames.dimension)].add(result.row(k))
            }
        }
        do {
            try reader.frames(sampling, shouldStop: { cancellation.isRequested }) { (frame: VideoFrame) throws(VideoError) in
                pending.append(frame)
                guard pending.count >= model.options.frameBatch else { return }
                do { try flush() } catch {
                    stopped = error
                    throw VideoError.cancelled
                }
            }
            try flush()
        } catch {
            timing.framesModel += spent
            timing.frames += count
            if let stopped { throw stopped }
            if case VideoError.cancelled = error, cancellation.isRequested { throw PluginError.cancelled }
            if let e = error as? VideoError { throw VideoEmbedCall.failure(e) }
            throw error
        }
        timing.framesModel += spent
        timing.frames += count
        return sums
    }

    /// Seconds with 3 decimals.
    static func format(_ t: Double) -> String { String(Double(Int((t * 1000).rounded())) / 1000) }

    /// A decoder error as this input's status: a limit is TOO_LARGE, a resource RESOURCE, the
    /// rest INVALID_INPUT (the file is what is wrong).
    static func failure(_ e: VideoError) -> InputFailure {
        let status: embedd_status
        switch e {
        case .tooManyBytes, .tooLarge, .tooLong, .tooManyFrames, .decodeTimeout: status = EMBEDD_ERR_TOO_LARGE
        case .resourceFailure: status = EMBEDD_ERR_RESOURCE
        default: status = EMBEDD_ERR_INVALID_INPUT
        }
        return InputFailure(status: status, message: "\(e)")
    }
}

/// A running sum of normalised vectors.
struct FrameSum {
    private var sum: [Double]
    private(set) var count = 0

    init(dimension: Int) { sum = [Double](repeating: 0, count: dimension) }

    /// Adds `v` scaled to unit length (a zero vector is skipped).
    mutating func add(_ v: ArraySlice<Float>) {
        var sq = 0.0
        for x in v { sq += Double(x) * Double(x) }
        guard sq > 0 else { return }
        let scale = 1 / sq.squareRoot()
        for (j, x) in v.enumerated() { sum[j] += Double(x) * scale }
        count += 1
    }

    /// The mean direction, unit length, written to `out` (`dimension` floats).
    func normalised(into out: UnsafeMutablePointer<Float>) {
        var sq = 0.0
        for x in sum { sq += x * x }
        let scale = sq > 0 ? 1 / sq.squareRoot() : 0
        for (j, x) in sum.enumerated() { out[j] = Float(x * scale) }
    }
}

/// A duration in seconds.
func seconds(_ d: Duration) -> Double {
    let (s, atto) = d.components
    return Double(s) + Double(atto) * 1e-18
}
