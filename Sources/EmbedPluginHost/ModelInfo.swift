import CEmbedABI

/// What a loaded model is: a Swift copy of the plugin's `embedd_model_info`.
public struct ModelInfo: Sendable, Hashable {
    public var name: String
    /// Version or content hash of the weights.
    public var version: String
    /// Vectors are comparable only within one embedding space.
    public var embeddingSpace: String
    public var modalities: Modalities
    public var inputKinds: Set<InputKind>
    /// MIME types accepted as encoded media.
    public var mimeTypes: [String]
    public var dimension: Int
    public var metric: Metric
    /// Whether every output vector has unit L2 norm.
    public var normalized: Bool
    public var maxTokens: Int
    public var maxPixels: Int
    public var maxSeconds: Double
    /// Hard cap on one input's size in bytes (0 = none).
    public var maxInputBytes: Int
    public var preferredBatch: Int
    public var maxBatch: Int
    /// Whether embed calls may run concurrently on one model.
    public var concurrent: Bool
    /// Largest |alone − batched| difference the plugin promises.
    public var batchTolerance: Float
    /// ABI 1.1: the window length of the per-segment vectors the model emits on request
    /// (audio, video); 0 when it emits none.
    public var segmentSeconds: Double = 0

    /// Copies and validates a plugin's description; throws a message naming the bad field.
    init(copying raw: UnsafePointer<embedd_model_info>) throws(DescriptionError) {
        let i = raw.pointee
        // ABI 1.0's fields end with `batch_tolerance` (see PluginImage on later minors).
        let info10 = MemoryLayout<embedd_model_info>.offset(of: \.batch_tolerance)! + MemoryLayout<Float>.size
        guard i.struct_size >= UInt32(info10) else {
            throw DescriptionError("model description is \(i.struct_size) bytes, ABI 1.0 needs at least \(info10)")
        }
        func string(_ p: UnsafePointer<CChar>?, _ field: String) throws(DescriptionError) -> String {
            guard let p else { throw DescriptionError("model description has a NULL \(field)") }
            return String(cString: p)
        }
        name = try string(i.name, "name")
        version = try string(i.version, "version")
        embeddingSpace = try string(i.embedding_space, "embedding_space")
        guard !embeddingSpace.isEmpty else { throw DescriptionError("model description has an empty embedding_space") }
        modalities = Modalities(rawValue: i.modalities)
        guard !modalities.isEmpty else { throw DescriptionError("model description declares no modality") }
        inputKinds = Set(InputKind.allCases.filter { i.input_kinds & (1 << $0.rawValue) != 0 })
        guard !inputKinds.isEmpty else { throw DescriptionError("model description accepts no input kind") }
        var mimes: [String] = []
        if i.mime_type_count > 0 {
            guard let list = i.mime_types else { throw DescriptionError("model description has mime_type_count \(i.mime_type_count) but NULL mime_types") }
            for k in 0..<Int(i.mime_type_count) { mimes.append(try string(list[k], "mime_types[\(k)]")) }
        }
        mimeTypes = mimes
        guard i.dim >= 1 && i.dim <= 65536 else { throw DescriptionError("model description has dim \(i.dim) (must be 1...65536)") }
        dimension = Int(i.dim)
        guard let m = Metric(abi: i.metric) else { throw DescriptionError("model description has unknown metric \(i.metric)") }
        metric = m
        normalized = i.normalized != 0
        maxTokens = Int(i.max_tokens)
        maxPixels = Int(i.max_pixels)
        maxSeconds = i.max_seconds
        maxInputBytes = Int(clamping: i.max_input_bytes)
        preferredBatch = max(1, Int(i.preferred_batch))
        maxBatch = max(1, Int(i.max_batch))
        concurrent = i.concurrent != 0
        guard i.batch_tolerance.isFinite && i.batch_tolerance >= 0 else {
            throw DescriptionError("model description has batch_tolerance \(i.batch_tolerance)")
        }
        batchTolerance = i.batch_tolerance
        let segmentEnd = MemoryLayout<embedd_model_info>.offset(of: \.segment_seconds)! + MemoryLayout<Double>.size
        if Int(i.struct_size) >= segmentEnd {
            guard i.segment_seconds.isFinite && i.segment_seconds >= 0 else {
                throw DescriptionError("model description has segment_seconds \(i.segment_seconds)")
            }
            segmentSeconds = i.segment_seconds
        }
    }

    /// A problem with a plugin's model description.
    struct DescriptionError: Error { let message: String; init(_ m: String) { message = m } }
}
