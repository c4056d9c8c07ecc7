import CEmbedABI

/// The C form of a `ModelDescription`: the info struct and every string and array it points
/// to, stable and unchanged until deinit (the model's release).
final class ModelInfoStorage {
    let info: UnsafeMutablePointer<embedd_model_info>
    private let strings = CStringStore()
    private let mimeTypes: UnsafeMutablePointer<UnsafePointer<CChar>?>?

    init(_ d: ModelDescription) {
        var i = embedd_model_info()
        i.struct_size = UInt32(MemoryLayout<embedd_model_info>.size)
        i.name = strings.make(d.name)
        i.version = strings.make(d.version)
        i.embedding_space = strings.make(d.embeddingSpace)
        i.modalities = d.modalities
        i.input_kinds = d.inputKinds
        if d.mimeTypes.isEmpty {
            mimeTypes = nil
        } else {
            let m = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: d.mimeTypes.count)
            for (k, s) in d.mimeTypes.enumerated() { (m + k).initialize(to: strings.make(s)) }
            mimeTypes = m
        }
        i.mime_types = UnsafePointer(mimeTypes)
        i.mime_type_count = UInt32(d.mimeTypes.count)
        i.dim = UInt32(d.dim)
        i.metric = d.metric.rawValue
        i.normalized = d.normalized ? 1 : 0
        i.max_tokens = UInt32(d.maxTokens)
        i.max_pixels = UInt32(d.maxPixels)
        i.max_seconds = d.maxSeconds
        i.max_input_bytes = UInt64(d.maxInputBytes)
        i.preferred_batch = UInt32(d.preferredBatch)
        i.max_batch = UInt32(d.maxBatch)
        i.concurrent = d.concurrent ? 1 : 0
        i.batch_tolerance = d.batchTolerance
        i.segment_seconds = d.segmentSeconds
        info = .allocate(capacity: 1)
        info.initialize(to: i)
    }

    deinit {
        info.deinitialize(count: 1)
        info.deallocate()
        mimeTypes?.deallocate()
    }
}
