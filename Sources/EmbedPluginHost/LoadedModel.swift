import CEmbedABI
import EmbedSys
import Synchronization

/// One model instance inside a plugin image, with its in-flight accounting.
///
/// Invariant: the plugin's `release_model` runs exactly once, after the instance is retired
/// *and* its last call has returned (`inFlight == 0`). Calls on a model that is not declared
/// concurrent are serialised by `serial`.
public final class LoadedModel: @unchecked Sendable {
    /// The name the host registered it under (from the config).
    public let registeredName: String
    /// The plugin's description of the model.
    public let info: ModelInfo
    /// The image that owns it.
    public let image: PluginImage
    /// The host's instance number; every load or swap makes a new one.
    public let generation: Int
    /// Where it was loaded from and with which options.
    public let directory: String
    public let options: [String: String]

    private let handle: OpaquePointer
    private let onRelease: @Sendable (LoadedModel) -> Void
    private let serial = Mutex(())

    private struct Accounting {
        var inFlight = 0
        var retired = false
        var released = false       // claimed: exactly one thread releases
        var releaseDone = false    // the plugin's release_model has returned
    }

    /// Releases running on threads of their own (see `leave`); `PluginHost.shutdown` waits
    /// for them, so the daemon never exits in the middle of a plugin's `release_model`.
    private static let detached = ConditionLock()
    nonisolated(unsafe) private static var detachedRunning = 0  // guarded by `detached`

    /// Waits until no detached release is running, at most `seconds`; returns whether none is.
    static func waitForDetachedReleases(seconds: Double) -> Bool {
        let end = Clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
        return detached.withLock {
            while detachedRunning > 0 && Clock.monotonicNanoseconds() < end { detached.wait(seconds: 0.05) }
            return detachedRunning == 0
        }
    }
    private let accounting = Mutex(Accounting())

    /// Counters for Status: calls, inputs, inputs that failed, whole calls that failed.
    public let calls = Atomic<Int>(0), inputs = Atomic<Int>(0), failedInputs = Atomic<Int>(0), failedCalls = Atomic<Int>(0)

    init(registeredName: String, info: ModelInfo, image: PluginImage, handle: OpaquePointer,
         generation: Int, directory: String, options: [String: String],
         onRelease: @escaping @Sendable (LoadedModel) -> Void) {
        self.onRelease = onRelease
        self.registeredName = registeredName
        self.info = info
        self.image = image
        self.handle = handle
        self.generation = generation
        self.directory = directory
        self.options = options
    }

    // MARK: In-flight accounting

    /// Counts a call in; false when the model is already retired.
    func enter() -> Bool {
        accounting.withLock { a in
            guard !a.retired else { return false }
            a.inFlight += 1
            return true
        }
    }

    /// Counts a call out; releases the model if it was retired and this was the last call —
    /// on a thread of its own: `release_model` waits for the plugin's lifecycle lock, which a
    /// `load_model` of the same plugin (a swap of another of its models) may hold for seconds,
    /// and this is the thread that serves the call's reply and the model's next batch.
    func leave() {
        let release = accounting.withLock { a -> Bool in
            a.inFlight -= 1
            return claimRelease(&a)
        }
        if release {
            Self.detached.withLock { Self.detachedRunning += 1 }
            let finished = { @Sendable in Self.detached.withLock { Self.detachedRunning -= 1; Self.detached.broadcast() } }
            do {
                try OSThread.detach { [self] in
                    releaseNow()
                    finished()
                }
            } catch {
                releaseNow()
                finished()
            }
        }
    }

    /// Takes the model out of service: no new calls; released once in-flight calls are done.
    func retire() {
        let release = accounting.withLock { a -> Bool in
            a.retired = true
            return claimRelease(&a)
        }
        if release { releaseNow() }
    }

    private func releaseNow() {
        image.release(handle)
        accounting.withLock { $0.releaseDone = true }
        onRelease(self)
    }

    private func claimRelease(_ a: inout Accounting) -> Bool {
        guard a.retired, a.inFlight == 0, !a.released else { return false }
        a.released = true
        return true
    }

    /// Releases an instance obtained from `PluginHost.loadUnregisteredModel` once its calls end.
    public func dispose() { retire() }

    /// Calls running now.
    public var inFlight: Int { accounting.withLock { $0.inFlight } }
    /// Whether the plugin has released this instance.
    public var isReleased: Bool { accounting.withLock { $0.releaseDone } }

    // MARK: Embedding

    /// Runs the plugin on `inputs` (split into chunks of `info.maxBatch`), on the calling thread.
    ///
    /// No host-side filtering happens here — the conformance kit relies on reaching the plugin
    /// with bad inputs; `PluginHost.embed` checks kinds and sizes first. Throws only when a
    /// whole call fails or is cancelled; per-input problems are in `EmbedBatch.failures`.
    /// - Parameter checkCancellationFirst: refuse at once when `cancel` is already raised; the
    ///   conformance kit turns it off to see whether the plugin polls the flag itself.
    /// - Parameter segments: ask the plugin for per-segment vectors too (ABI 1.1; a model
    ///   with `segmentSeconds == 0` emits none), at most `segmentLimit` in the whole call.
    public func embed(_ inputs: [EmbedInput], cancel: CancellationFlag? = nil,
                      checkCancellationFirst: Bool = true, segments: Bool = false,
                      segmentLimit: Int = LoadedModel.defaultSegmentLimit) throws(PluginError) -> EmbedBatch {
        let dim = info.dimension
        var vectors = [Float](repeating: 0, count: inputs.count * dim)
        var failures = [InputFailure?](repeating: nil, count: inputs.count)
        var usage = [embedd_input_usage](repeating: embedd_input_usage(), count: inputs.count)
        var found: [[TimeSegment]] = segments ? Array(repeating: [], count: inputs.count) : []
        var start = 0
        calls.add(1, ordering: .relaxed)
        while start < inputs.count {
            let end = min(inputs.count, start + info.maxBatch)
            let collector = segments
                ? SegmentCollector(count: end - start, dimension: dim, normalized: info.normalized,
                                   limit: max(0, segmentLimit - found.reduce(0) { $0 + $1.count }))
                : nil
            try runChunk(inputs[start..<end], vectors: &vectors, failures: &failures, usage: &usage, cancel: cancel,
                         checkCancellationFirst: checkCancellationFirst, collector: collector)
            if let collector {
                for (k, list) in collector.segments.enumerated() where failures[start + k] == nil {
                    if let fault = collector.faults[k] {
                        failures[start + k] = InputFailure(code: .internalError, message: fault)
                        for j in 0..<dim { vectors[(start + k) * dim + j] = 0 }
                    } else {
                        found[start + k] = list
                    }
                }
            }
            start = end
        }
        self.inputs.add(inputs.count, ordering: .relaxed)
        failedInputs.add(failures.reduce(0) { $0 + ($1 == nil ? 0 : 1) }, ordering: .relaxed)
        var batch = EmbedBatch(dimension: dim, vectors: vectors, failures: failures,
                               modelVersion: info.version, generation: generation, embeddingSpace: info.embeddingSpace)
        batch.usage = zip(usage, failures).map { u, failure in
            // A failed input has no vector, so nothing was "used"; counts a plugin left
            // inconsistent (used > tokens) are dropped rather than passed on as a claim.
            guard failure == nil, u.tokens > 0, u.used <= u.tokens else { return TokenUsage() }
            return TokenUsage(tokens: Int(u.tokens), used: Int(u.used), truncated: u.used < u.tokens, chunks: Int(u.chunks))
        }
        if segments {
            batch.segments = zip(found, failures).map { list, failure in failure == nil ? list : [] }
        }
        return batch
    }

    /// The most segments one embed call may return (`embed(segments:segmentLimit:)`): 30-s
    /// windows of about 68 hours of sound.
    public static let defaultSegmentLimit = 8192

    private func runChunk(_ chunk: ArraySlice<EmbedInput>, vectors: inout [Float], failures: inout [InputFailure?],
                          usage: inout [embedd_input_usage],
                          cancel: CancellationFlag?, checkCancellationFirst: Bool,
                          collector: SegmentCollector?) throws(PluginError) {
        if checkCancellationFirst, let cancel, cancel.isCancelled {
            throw PluginError(.cancelled, "embed call on model '\(registeredName)' was cancelled")
        }
        let dim = info.dimension
        let arena = InputArena(chunk)
        var statuses = [embedd_input_status](repeating: embedd_input_status(), count: chunk.count)
        var error = [CChar](repeating: 0, count: Int(EMBEDD_MESSAGE_CAPACITY))
        let base = chunk.startIndex
        let rc: Int32 = arena.withCInputs { cInputs in
            vectors.withUnsafeMutableBufferPointer { out in
                statuses.withUnsafeMutableBufferPointer { st in
                    error.withUnsafeMutableBufferPointer { err in
                        usage.withUnsafeMutableBufferPointer { counts in
                            // The 1.1 request goes to 1.0 plugins too: they read no further
                            // than the fields they know (the ABI's growth rule).
                            var request = embedd_embed_request(
                                struct_size: UInt32(MemoryLayout<embedd_embed_request>.size),
                                count: UInt32(chunk.count), inputs: cInputs.baseAddress,
                                output: out.baseAddress! + base * dim, statuses: st.baseAddress,
                                cancel: cancel.map { UnsafePointer($0.word) }, error: err.baseAddress,
                                error_capacity: err.count, usage: counts.baseAddress! + base,
                                emit_segment: collector == nil ? nil : SegmentCollector.emit,
                                segment_context: collector.map { Unmanaged.passUnretained($0).toOpaque() })
                            return withExtendedLifetime(collector) {
                                // Marks the thread, so that the plugin's `embed_with` cannot
                                // call this model and wait for itself (Composition).
                                Composition.runningModel.with(Composition.tag(registeredName)) {
                                    info.concurrent
                                    ? image.descriptor.pointee.embed(handle, &request)
                                    : serial.withLock { _ in image.descriptor.pointee.embed(handle, &request) }
                                }
                            }
                        }
                    }
                }
            }
        }
        if rc == EMBEDD_ERR_CANCELLED.rawValue {
            failedCalls.add(1, ordering: .relaxed)
            throw PluginError(.cancelled, "embed call on model '\(registeredName)' was cancelled")
        }
        if rc == EMBEDD_ERR_RESOURCE.rawValue, let collector, collector.refused {
            failedCalls.add(1, ordering: .relaxed)
            throw PluginError(.batchFailed, "model '\(registeredName)' returned more than \(collector.limit) segments in one call; embed fewer or shorter inputs at a time")
        }
        guard rc == EMBEDD_OK.rawValue else {
            failedCalls.add(1, ordering: .relaxed)
            let detail = message(error)
            throw PluginError(.batchFailed, "model '\(registeredName)' failed the whole batch (\(EmbedStatusCode(abi: rc))): \(detail.isEmpty ? "no message" : detail)")
        }
        for (k, status) in statuses.enumerated() {
            let row = base + k
            if status.status != EMBEDD_OK.rawValue {
                let text = withUnsafeBytes(of: status.message) { raw -> String in
                    let end = raw.firstIndex(of: 0) ?? raw.count
                    return String(decoding: raw[..<end], as: UTF8.self)
                }
                failures[row] = InputFailure(code: EmbedStatusCode(abi: status.status),
                                             message: text.isEmpty ? "input \(row) failed without a message" : text)
                for j in 0..<dim { vectors[row * dim + j] = 0 }
                continue
            }
            // Never hand NaN or infinity to a store or a client.
            var finite = true
            for j in 0..<dim where !vectors[row * dim + j].isFinite {
                failures[row] = InputFailure(code: .internalError, message: "plugin returned a non-finite value in dimension \(j)")
                for z in 0..<dim { vectors[row * dim + z] = 0 }
                finite = false
                break
            }
            // A model that declares unit vectors must deliver them: a row left unwritten (all
            // zeros) or scaled wrongly is a plugin fault, not a result.
            if finite && info.normalized {
                var sq: Double = 0
                for j in 0..<dim { sq += Double(vectors[row * dim + j]) * Double(vectors[row * dim + j]) }
                if abs(sq.squareRoot() - 1) > 1e-3 {
                    failures[row] = InputFailure(code: .internalError,
                                                 message: "plugin returned a vector of norm \(sq.squareRoot()) from a model that declares unit vectors")
                    for z in 0..<dim { vectors[row * dim + z] = 0 }
                }
            }
        }
    }
}

/// The bytes of a chunk of inputs, copied into one 16-byte-aligned arena so that every
/// `embedd_input` can point into memory that lives for the whole call.
private struct InputArena {
    private var bytes: [UInt8] = []
    private var layout: [(kind: UInt32, offset: Int, size: Int, mime: Int?, width: UInt32, height: UInt32, rate: UInt32, channels: UInt32,
                          descriptor: Int32?)] = []

    init(_ inputs: ArraySlice<EmbedInput>) {
        for input in inputs {
            pad()
            let offset = bytes.count
            var mime: Int? = nil
            var w: UInt32 = 0, h: UInt32 = 0, rate: UInt32 = 0, channels: UInt32 = 0
            var descriptor: Int32? = nil
            var size: Int? = nil
            switch input {
            case .text(let s): bytes += s.utf8
            case .encoded(let b, let m):
                bytes += b
                mime = bytes.count
                bytes += m.utf8
                bytes.append(0)
            case .rgb8(let p, let width, let height):
                bytes += p
                w = UInt32(clamping: width); h = UInt32(clamping: height)
            case .pcm(let samples, let r, let c):
                samples.withUnsafeBytes { bytes += $0 }
                rate = UInt32(clamping: r); channels = UInt32(clamping: c)
            case .file(let f, let m):
                // No bytes: the plugin reads the file (the input keeps it open for the call).
                mime = bytes.count
                bytes += m.utf8
                bytes.append(0)
                descriptor = f.descriptor.rawValue
                size = Int(clamping: f.size)
            }
            let length = size ?? (mime.map { $0 - offset } ?? (bytes.count - offset))
            layout.append((input.kind.rawValue, offset, length, mime, w, h, rate, channels, descriptor))
        }
        if bytes.isEmpty { bytes.append(0) }
    }

    private mutating func pad() { while bytes.count % 16 != 0 { bytes.append(0) } }

    func withCInputs<R>(_ body: (UnsafeBufferPointer<embedd_input>) -> R) -> R {
        bytes.withUnsafeBufferPointer { buf in
            let base = buf.baseAddress!
            let c = layout.map { l in
                embedd_input(kind: l.kind, reserved: l.descriptor.map { UInt32(bitPattern: $0) } ?? 0,
                             data: l.descriptor == nil ? base + l.offset : nil, size: l.size,
                             mime_type: l.mime.map { UnsafeRawPointer(base + $0).assumingMemoryBound(to: CChar.self) },
                             width: l.width, height: l.height, sample_rate: l.rate, channels: l.channels)
            }
            return c.withUnsafeBufferPointer(body)
        }
    }
}
