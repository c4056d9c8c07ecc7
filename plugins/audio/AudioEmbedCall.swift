import CEmbedABI
import EmbedAudio
import EmbedAV
import EmbedNN
import EmbedPluginKit

/// One `embed` call: each input is decoded (or its PCM resampled) to 16-kHz mono on its own
/// — a bad input fails alone, naming the problem — and cut into 30-s windows; the windows of
/// all inputs go through the log-mel front end and the encoder `forward_batch` at a time on
/// the model's compute thread; each window is pooled over the frames that cover its real
/// samples and normalised, and an input's vector is the mean of its windows' vectors,
/// normalised again. With segments requested, every window's vector goes to the host too.
struct AudioEmbedCall {
    let model: AudioModel
    let batch: EmbedBatch

    private struct Job {
        let input: Int
        let samples: [Float]
        let windows: [AudioWindows.Window]
    }

    func run() throws(PluginError) {
        let rate = model.features.config.samplingRate
        let windowLength = model.features.config.sampleCount
        let overlap = Int((model.options.windowOverlap * Double(rate)).rounded())
        var jobs: [Job] = []
        for i in 0..<batch.count {
            if batch.cancellation.isRequested { throw .cancelled }
            guard let samples = decode(i) else { continue }
            guard !samples.isEmpty else {
                batch.fail(i, EMBEDD_ERR_INVALID_INPUT, "the recording holds no audio samples")
                continue
            }
            jobs.append(Job(input: i, samples: samples,
                            windows: AudioWindows(samples: samples.count, length: windowLength, overlap: overlap).windows))
        }
        guard !jobs.isEmpty else { return }

        let dim = model.embedder.dimension
        let frameCount = model.features.frameCount
        let perWindow = model.features.outputCount
        let forward = max(1, model.options.forwardBatch)
        let samplesPerFrame = model.features.config.hopLength * 2  // conv2 has stride 2
        let maxFrames = frameCount / 2
        var sums = [Double](repeating: 0, count: jobs.count * dim)
        // Every window of the call, in input order: (job, window).
        let all = jobs.indices.flatMap { j in jobs[j].windows.indices.map { (j, $0) } }
        var features = [Float](repeating: 0, count: min(forward, all.count) * perWindow)
        var pooled = [Float](repeating: 0, count: min(forward, all.count) * dim)
        var start = 0
        while start < all.count {
            if batch.cancellation.isRequested { throw .cancelled }
            let part = Array(all[start ..< min(all.count, start + forward)])
            var frames: [Int] = []
            for (k, (j, w)) in part.enumerated() {
                let window = jobs[j].windows[w]
                let extracted = features.withUnsafeMutableBufferPointer { f in
                    jobs[j].samples.withUnsafeBufferPointer { s in
                        Result { () throws(FeatureError) in
                            try model.features.features(samples: UnsafeBufferPointer(rebasing: s[window.start ..< window.start + window.count]),
                                                        into: UnsafeMutableBufferPointer(rebasing: f[k * perWindow ..< (k + 1) * perWindow]))
                        }
                    }
                }
                if case .failure(let e) = extracted { throw PluginError(EMBEDD_ERR_INTERNAL, "log-mel features: \(e.message)") }
                frames.append(AudioWindows.frames(samples: window.count, maxFrames: maxFrames, samplesPerFrame: samplesPerFrame))
            }
            let embedder = model.embedder
            let cancel = batch.cancellation
            let input = features
            let count = part.count
            let frameList = frames
            do {
                pooled = try model.compute.run { () throws -> [Float] in
                    var out = [Float](repeating: 0, count: count * dim)
                    try input.withUnsafeBufferPointer { f in
                        try out.withUnsafeMutableBufferPointer { o in
                            try embedder.embed(features: f.baseAddress!, count: count, frames: frameList, into: o.baseAddress!,
                                               cancelled: { cancel.isRequested })
                        }
                    }
                    return out
                }
            } catch is TransformerEncoder.Cancelled {
                throw .cancelled
            } catch let e as NNError {
                throw PluginError(EMBEDD_ERR_INTERNAL, e.message)
            } catch {
                throw PluginError(EMBEDD_ERR_INTERNAL, "\(error)")
            }
            for (k, (j, w)) in part.enumerated() {
                let row = pooled.withUnsafeBufferPointer { p in Array(p[k * dim ..< (k + 1) * dim]) }
                for c in 0..<dim { sums[j * dim + c] += Double(row[c]) }
                if batch.wantsSegments {
                    let window = jobs[j].windows[w]
                    let ok = row.withUnsafeBufferPointer { r in
                        batch.emitSegment(input: jobs[j].input, start: Double(window.start) / Double(rate),
                                          end: Double(window.start + window.count) / Double(rate), vector: r.baseAddress!)
                    }
                    if !ok { throw PluginError(EMBEDD_ERR_RESOURCE, "the host took no more segments in this call") }
                }
            }
            start += part.count
        }
        for (j, job) in jobs.enumerated() {
            var norm: Double = 0
            for c in 0..<dim { norm += sums[j * dim + c] * sums[j * dim + c] }
            norm = norm.squareRoot()
            let out = batch.output(row: job.input, dim: dim)
            guard norm > 0 else {
                batch.fail(job.input, EMBEDD_ERR_INTERNAL, "the windows' vectors cancel out (zero mean); no direction to report")
                continue
            }
            for c in 0..<dim { out[c] = Float(sums[j * dim + c] / norm) }
        }
    }

    /// Input `i` as 16-kHz mono samples, or nil after failing it alone with the reason.
    private func decode(_ i: Int) -> [Float]? {
        let input = batch.inputs[i]
        let limits = model.audioLimits
        let rate = model.features.config.samplingRate
        let isFile = input.kind == EMBEDD_INPUT_FD.rawValue
        // An open file (ABI 1.1) is read in place, so `max_input_bytes` bounds only bytes held in
        // memory; the sound track of an hour of video is bounded by `max_seconds`.
        guard input.size <= model.options.maxInputBytes || isFile else {
            batch.fail(i, EMBEDD_ERR_TOO_LARGE, "\(input.size) bytes exceeds max_input_bytes \(model.options.maxInputBytes)")
            return nil
        }
        guard input.size > 0, input.data != nil || isFile else {
            batch.fail(i, EMBEDD_ERR_INVALID_INPUT, "empty input (0 bytes)")
            return nil
        }
        let bytes = UnsafeRawBufferPointer(start: input.data, count: isFile ? 0 : input.size)
        do throws(AudioError) {
            switch input.kind {
            case EMBEDD_INPUT_FD.rawValue:
                // Read in place: the file's size is no memory cost (an hour of 1080p video is a
                // few GB, its sound a few MB); its duration is bounded by `max_seconds`.
                let mime = input.mime_type.map { String(cString: $0) }
                var inPlace = limits
                inPlace.maxInputBytes = .max
                return try AudioDecoder.decode(.descriptor(fd: Int32(bitPattern: input.reserved), size: Int64(input.size)),
                                               mimeType: mime, limits: inPlace, targetRate: rate).samples
            case EMBEDD_INPUT_ENCODED.rawValue:
                let mime = input.mime_type.map { String(cString: $0) }
                return try AudioDecoder.decode(bytes: bytes, mimeType: mime, limits: limits, targetRate: rate).samples
            case EMBEDD_INPUT_PCM_F32.rawValue:
                return try AudioResampler.mono(pcmF32: bytes, sampleRate: Int(input.sample_rate), channels: Int(input.channels),
                                               limits: limits, targetRate: rate)
            default:
                batch.fail(i, EMBEDD_ERR_UNSUPPORTED_INPUT,
                           "the audio plugin accepts encoded sound (WAV, FLAC, OGG, MP3, M4A) or float32 PCM (kind \(input.kind) given)")
                return nil
            }
        } catch {
            let status: embedd_status
            switch error {
            case .tooManyBytes, .tooLong: status = EMBEDD_ERR_TOO_LARGE
            case .resourceFailure: status = EMBEDD_ERR_RESOURCE
            case .noAudioStream:
                // A video without sound: the daemon reports it as absent, not as a failure; it
                // recognises this status and the message's start.
                batch.fail(i, EMBEDD_ERR_UNSUPPORTED_INPUT, "no sound track: \(error.description)")
                return nil
            default: status = EMBEDD_ERR_INVALID_INPUT
            }
            batch.fail(i, status, error.description)
            return nil
        }
    }
}
