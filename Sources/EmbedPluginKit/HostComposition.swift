import CEmbedABI

/// One input a plugin hands to another loaded model (`PluginHost.embed(with:)`).
package enum HostInput {
    case text(String)
    case encoded([UInt8], mimeType: String)
    case rgb8([UInt8], width: Int, height: Int)
    case pcm([Float], sampleRate: Int, channels: Int = 1)
    /// An open file of encoded media (the caller's descriptor, not closed; ABI 1.1 FD input).
    case file(descriptor: Int32, size: Int, mimeType: String)
}

/// Another loaded model as the host describes it (`model_dimension`).
package struct HostModel: Sendable {
    package let name: String
    package let dimension: Int
    package let embeddingSpace: String
    /// Bit set of `1 << embedd_input_kind` the model accepts.
    package let inputKinds: UInt32

    package func accepts(_ kind: embedd_input_kind) -> Bool { inputKinds & (1 << kind.rawValue) != 0 }
}

/// What another model returned for a plugin's inputs.
package struct HostEmbedResult {
    package let dimension: Int
    /// `count × dimension` floats; rows of failed inputs are zero.
    package var vectors: [Float]
    /// Per input: nil, or the status and message it failed with.
    package var failures: [(status: Int32, message: String)?]
    /// Per input: its segments (start, end, vector) when asked for.
    package var segments: [[(start: Double, end: Double, vector: [Float])]]

    package func row(_ i: Int) -> ArraySlice<Float> { vectors[i * dimension ..< (i + 1) * dimension] }
}

extension PluginHost {
    /// Whether the host offers composition (an ABI 1.1 host: `embed_with` is not NULL).
    package var composes: Bool { api.embed_with != nil && api.model_dimension != nil }

    /// The model loaded under `name`, or nil when none is (or the host cannot say). Also
    /// tells the host which dimension this plugin will size `embed(with:)`'s output for.
    package func model(named name: String) -> HostModel? {
        guard let describe = api.model_dimension else { return nil }
        var space = [CChar](repeating: 0, count: 512)
        var kinds: UInt32 = 0
        let dim = name.withCString { n in space.withUnsafeMutableBufferPointer { describe(api.host_context, n, $0.baseAddress, $0.count, &kinds) } }
        guard dim > 0 else { return nil }
        let text = space.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return HostModel(name: name, dimension: Int(dim), embeddingSpace: text, inputKinds: kinds)
    }

    /// Embeds `inputs` with `model` (found by `model(named:)`) through the host, blocking:
    /// the host queues the call on that model as it would a client's. Per-input failures come
    /// back in the result; a whole-call failure is thrown (`cancelled` when the flag was seen).
    package func embed(with model: HostModel, _ inputs: [HostInput], cancellation: CancellationFlag,
                       segments: Bool = false) throws(PluginError) -> HostEmbedResult {
        guard let embedWith = api.embed_with else { throw PluginError(EMBEDD_ERR_RESOURCE, "the host does not offer embed_with (ABI 1.1)") }
        guard !inputs.isEmpty else { return HostEmbedResult(dimension: model.dimension, vectors: [], failures: [], segments: []) }
        // Every input's bytes in one arena (their pointers must stay valid during the call).
        var arena: [UInt8] = []
        var spans: [(offset: Int, size: Int, mime: Int?)] = []
        for input in inputs {
            while arena.count % 16 != 0 { arena.append(0) }
            let offset = arena.count
            var mime: Int? = nil
            var size: Int? = nil
            switch input {
            case .text(let s): arena += s.utf8
            case .encoded(let b, let m): arena += b; mime = arena.count; arena += m.utf8; arena.append(0)
            case .rgb8(let p, _, _): arena += p
            case .pcm(let s, _, _): s.withUnsafeBytes { arena += $0 }
            case .file(_, let n, let m): mime = arena.count; arena += m.utf8; arena.append(0); size = n
            }
            spans.append((offset, size ?? ((mime ?? arena.count) - offset), mime))
        }
        if arena.isEmpty { arena.append(0) }
        let count = inputs.count, dim = model.dimension
        var output = [Float](repeating: 0, count: count * dim)
        var statuses = [embedd_input_status](repeating: embedd_input_status(), count: count)
        var error = [CChar](repeating: 0, count: Int(EMBEDD_MESSAGE_CAPACITY))
        let sink = SegmentSink(count: segments ? count : 0, dimension: dim)
        let rc: Int32 = arena.withUnsafeBufferPointer { buf in
            let base = buf.baseAddress!
            let cInputs: [embedd_input] = zip(inputs, spans).map { input, span in
                var c = embedd_input()
                c.size = span.size
                c.data = base + span.offset
                c.mime_type = span.mime.map { UnsafeRawPointer(base + $0).assumingMemoryBound(to: CChar.self) }
                switch input {
                case .text: c.kind = EMBEDD_INPUT_TEXT.rawValue
                case .encoded: c.kind = EMBEDD_INPUT_ENCODED.rawValue
                case .rgb8(_, let w, let h): c.kind = EMBEDD_INPUT_RGB8.rawValue; c.width = UInt32(w); c.height = UInt32(h)
                case .pcm(_, let r, let ch): c.kind = EMBEDD_INPUT_PCM_F32.rawValue; c.sample_rate = UInt32(r); c.channels = UInt32(ch)
                case .file(let fd, _, _): c.kind = EMBEDD_INPUT_FD.rawValue; c.reserved = UInt32(bitPattern: fd); c.data = nil
                }
                return c
            }
            return cInputs.withUnsafeBufferPointer { ci in
                output.withUnsafeMutableBufferPointer { out in
                    statuses.withUnsafeMutableBufferPointer { st in
                        error.withUnsafeMutableBufferPointer { err in
                            var request = embedd_embed_request()
                            request.struct_size = UInt32(MemoryLayout<embedd_embed_request>.size)
                            request.count = UInt32(count)
                            request.inputs = ci.baseAddress
                            request.output = out.baseAddress
                            request.statuses = st.baseAddress
                            request.cancel = cancellation.word
                            request.error = err.baseAddress
                            request.error_capacity = err.count
                            if segments {
                                request.emit_segment = SegmentSink.emit
                                request.segment_context = Unmanaged.passUnretained(sink).toOpaque()
                            }
                            return withExtendedLifetime(sink) {
                                model.name.withCString { embedWith(api.host_context, $0, &request) }
                            }
                        }
                    }
                }
            }
        }
        guard rc == EMBEDD_OK.rawValue else {
            let text = error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if rc == EMBEDD_ERR_CANCELLED.rawValue { throw .cancelled }
            throw PluginError(embedd_status(rawValue: UInt32(bitPattern: rc)), text.isEmpty ? "embed_with '\(model.name)' failed" : text)
        }
        let failures: [(status: Int32, message: String)?] = statuses.map { s in
            guard s.status != EMBEDD_OK.rawValue else { return nil }
            let text = withUnsafeBytes(of: s.message) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            return (s.status, text)
        }
        return HostEmbedResult(dimension: dim, vectors: output, failures: failures, segments: sink.segments)
    }
}

/// Receives the segments the host hands back during `embed(with:segments:)`.
private final class SegmentSink {
    var segments: [[(start: Double, end: Double, vector: [Float])]]
    let dimension: Int
    init(count: Int, dimension: Int) {
        segments = Array(repeating: [], count: count)
        self.dimension = dimension
    }

    static let emit: @convention(c) (UnsafeMutableRawPointer?, UInt32, Double, Double, UnsafePointer<Float>?) -> Int32 = { context, index, start, end, vector in
        guard let context, let vector else { return Int32(EMBEDD_ERR_INVALID_INPUT.rawValue) }
        let sink = Unmanaged<SegmentSink>.fromOpaque(context).takeUnretainedValue()
        guard Int(index) < sink.segments.count else { return Int32(EMBEDD_ERR_INVALID_INPUT.rawValue) }
        sink.segments[Int(index)].append((start, end, Array(UnsafeBufferPointer(start: vector, count: sink.dimension))))
        return Int32(EMBEDD_OK.rawValue)
    }
}
