import CEmbedABI
import EmbedSys
import Synchronization

/// ABI 1.1 composition (docs/abi-1.1.md §5): a plugin embeds with another loaded model — the
/// video plugin sends its frames to the CLIP model and its sound to the Whisper model already
/// loaded, instead of loading second copies of their weights.
///
/// One per plugin image, behind its `host_context`. A call goes where the host's `Route`
/// sends it: the daemon routes it through the target model's batcher (same queue, limits and
/// batching as a client's call); a bare host (the conformance kit, unit tests) calls
/// `PluginHost.embed` directly. Each call resolves the target by name, so a hot swap of the
/// target is seen by the next call.
///
/// The output buffer of an `embed_with` request carries no length, so the host writes only
/// when the target's dimension is the one it last told this plugin (`model_dimension`): a swap
/// that changed it fails the call by name instead of overrunning the plugin's buffer.
final class Composition: Sendable {
    /// How a composed call reaches its target model.
    typealias Route = @Sendable (_ model: String, _ inputs: [EmbedInput], _ cancel: CancellationFlag?, _ segments: Bool)
        throws(PluginError) -> EmbedBatch

    private let describe: @Sendable (String) -> ModelInfo?
    private let route: @Sendable () -> Route?
    /// The dimension and space `model_dimension` last reported per model name.
    private let told = Mutex<[String: (dimension: Int, space: String)]>([:])

    init(describe: @escaping @Sendable (String) -> ModelInfo?, route: @escaping @Sendable () -> Route?) {
        self.describe = describe
        self.route = route
    }

    /// The model whose plugin call the current thread is running (`tag(_:)`; 0 when none).
    static let runningModel = ThreadSlot()

    /// A nonzero tag for a registered model name.
    static func tag(_ name: String) -> Int { Int(truncatingIfNeeded: fnv1a64(Array(name.utf8))) | 1 }

    func info(of name: String) -> ModelInfo? {
        let info = describe(name)
        told.withLock { $0[name] = info.map { ($0.dimension, $0.embeddingSpace) } }
        return info
    }

    /// Runs one `embed_with`; the return value and every write follow the ABI (embed()'s).
    func embed(with name: String, _ r: embedd_embed_request) -> Int32 {
        func fail(_ code: embedd_status, _ text: String) -> Int32 {
            if let e = r.error { text.withCString { embedd_copy_message(e, r.error_capacity, $0) } }
            return Int32(code.rawValue)
        }
        guard r.count > 0, let cInputs = r.inputs, let output = r.output, let statuses = r.statuses else {
            return fail(EMBEDD_ERR_INVALID_INPUT, "embed_with: the request needs inputs, output and statuses")
        }
        guard Composition.runningModel.value != Composition.tag(name) else {
            return fail(EMBEDD_ERR_RESOURCE, "embed_with: model '\(name)' is the model running this call; it would wait for itself")
        }
        guard let expected = told.withLock({ $0[name] }) else {
            return fail(EMBEDD_ERR_INVALID_INPUT, "embed_with: call model_dimension for '\(name)' first (it sizes the output)")
        }
        var inputs: [EmbedInput] = []
        inputs.reserveCapacity(Int(r.count))
        for i in 0..<Int(r.count) {
            switch Composition.input(cInputs[i]) {
            case .success(let input): inputs.append(input)
            case .failure(let why): return fail(EMBEDD_ERR_INVALID_INPUT, "embed_with: input \(i): \(why.text)")
            }
        }
        let covers = { (end: Int) in Int(r.struct_size) >= end }
        let usageEnd = MemoryLayout<embedd_embed_request>.offset(of: \.usage)! + MemoryLayout<UnsafeMutableRawPointer?>.size
        let segmentEnd = MemoryLayout<embedd_embed_request>.offset(of: \.segment_context)! + MemoryLayout<UnsafeMutableRawPointer?>.size
        let emit = covers(segmentEnd) ? r.emit_segment : nil
        guard let route = route() else { return fail(EMBEDD_ERR_RESOURCE, "embed_with: this host does not route calls between models") }
        let batch: EmbedBatch
        do {
            batch = try route(name, inputs, r.cancel.map { CancellationFlag(sharing: UnsafePointer($0)) }, emit != nil)
        } catch {
            return fail(error.kind == .cancelled ? EMBEDD_ERR_CANCELLED : EMBEDD_ERR_RESOURCE, "embed_with '\(name)': \(error.message)")
        }
        guard batch.dimension == expected.dimension else {
            return fail(EMBEDD_ERR_RESOURCE, "embed_with: model '\(name)' now has dimension \(batch.dimension), not the \(expected.dimension) model_dimension reported (it was swapped); reload the model that composes it")
        }
        // Same dimension, other weights: the composing model's vectors would silently leave
        // the space it declared.
        guard batch.embeddingSpace.isEmpty || batch.embeddingSpace == expected.space else {
            return fail(EMBEDD_ERR_RESOURCE, "embed_with: model '\(name)' now embeds into space \(batch.embeddingSpace), not \(expected.space) (it was swapped to other weights); reload the model that composes it")
        }
        batch.vectors.withUnsafeBufferPointer { v in
            output.update(from: v.baseAddress!, count: batch.count * expected.dimension)
        }
        let usage = covers(usageEnd) ? r.usage : nil
        for i in 0..<batch.count {
            if let f = batch.failures[i] {
                statuses[i].status = f.code.rawValue
                withUnsafeMutableBytes(of: &statuses[i].message) { raw in
                    f.message.withCString { embedd_copy_message(raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count, $0) }
                }
                continue
            }
            statuses[i].status = Int32(EMBEDD_OK.rawValue)
            if let usage, i < batch.usage.count, batch.usage[i].isCounted {
                let u = batch.usage[i]
                usage[i] = embedd_input_usage(tokens: UInt32(clamping: u.tokens), used: UInt32(clamping: u.used),
                                              truncated: u.truncated ? 1 : 0, chunks: UInt32(clamping: u.chunks))
            }
            if let emit, i < batch.segments.count {
                for s in batch.segments[i] {
                    let rc = s.vector.withUnsafeBufferPointer { emit(r.segment_context, UInt32(i), s.start, s.end, $0.baseAddress) }
                    if rc != Int32(EMBEDD_OK.rawValue) { return rc }
                }
            }
        }
        return Int32(EMBEDD_OK.rawValue)
    }

    private struct Refusal: Error { let text: String }

    /// A copy of one C input the plugin passed (its memory is the plugin's, valid only now).
    private static func input(_ c: embedd_input) -> Result<EmbedInput, Refusal> {
        func bytes() -> [UInt8] { c.size == 0 || c.data == nil ? [] : Array(UnsafeBufferPointer(start: c.data, count: c.size)) }
        guard c.size == 0 || c.data != nil || c.kind == InputKind.file.rawValue else { return .failure(Refusal(text: "data is NULL")) }
        switch InputKind(rawValue: c.kind) {
        case .text: return .success(.text(String(decoding: bytes(), as: UTF8.self)))
        case .encoded: return .success(.encoded(bytes: bytes(), mimeType: c.mime_type.map { String(cString: $0) } ?? ""))
        case .rgb8: return .success(.rgb8(pixels: bytes(), width: Int(c.width), height: Int(c.height)))
        case .pcmF32:
            guard c.size % 4 == 0 else { return .failure(Refusal(text: "PCM size \(c.size) is not a multiple of 4")) }
            let samples = c.size == 0 ? [] : Array(UnsafeRawBufferPointer(start: c.data, count: c.size).bindMemory(to: Float.self))
            return .success(.pcm(samples: samples, sampleRate: Int(c.sample_rate), channels: Int(c.channels)))
        case .file:
            do {
                let file = try OpenFile(duplicating: FileDescriptor(rawValue: Int32(bitPattern: c.reserved)), size: Int64(c.size))
                return .success(.file(file, mimeType: c.mime_type.map { String(cString: $0) } ?? ""))
            } catch {
                return .failure(Refusal(text: "cannot duplicate descriptor \(c.reserved): \(error)"))
            }
        case nil: return .failure(Refusal(text: "unknown input kind \(c.kind)"))
        }
    }

    // MARK: C entry points (embedd_host_api)

    static let modelDimensionTrampoline: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int,
                                                         UnsafeMutablePointer<UInt32>?) -> UInt32 = { context, name, space, capacity, kinds in
        guard let context, let name,
              let services = Unmanaged<LogContext>.fromOpaque(context).takeUnretainedValue().services,
              let info = services.info(of: String(cString: name)) else {
            if let space, capacity > 0 { space[0] = 0 }
            kinds?.pointee = 0
            return 0
        }
        if let space { info.embeddingSpace.withCString { embedd_copy_message(space, capacity, $0) } }
        kinds?.pointee = info.inputKinds.reduce(0) { $0 | (1 << $1.rawValue) }
        return UInt32(clamping: info.dimension)
    }

    static let embedWithTrampoline: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<embedd_embed_request>?) -> Int32 = {
        context, name, request in
        guard let context, let name, let request else { return Int32(EMBEDD_ERR_INVALID_INPUT.rawValue) }
        guard let services = Unmanaged<LogContext>.fromOpaque(context).takeUnretainedValue().services else {
            let r = request.pointee
            if let e = r.error { "embed_with: this host does not route calls between models".withCString { embedd_copy_message(e, r.error_capacity, $0) } }
            return Int32(EMBEDD_ERR_RESOURCE.rawValue)
        }
        return services.embed(with: String(cString: name), request.pointee)
    }
}
