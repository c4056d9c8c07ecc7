import CEmbedABI
import EmbedNN

/// One loaded text model behind the ABI: the embedder, its compute thread, and the stable
/// description the host reads.
final class TextModel {
    let embedder: TextEmbedder
    let options: TextPluginOptions
    let compute: ComputeThread
    let strings = CStringStore()
    let info: UnsafeMutablePointer<embedd_model_info>

    init(folder: String, options: TextPluginOptions) throws(NNError) {
        self.options = options
        let name = folder.split(separator: "/").last.map(String.init) ?? folder
        compute = try ComputeThread()
        // Everything that runs oneDNN — the weight reorders at load included — runs on the
        // compute thread. A load on the caller's thread left a second OpenMP team (an idle
        // worker) behind, and libgomp, counting more of its threads than cores, cuts its spin
        // between parallel regions to 100 rounds: every matmul then paid two futex sleeps and
        // wake-ups (~50 context switches per fp32 sentence, 4 now). Two models at once (or the
        // old and new one during a hot swap) bring that back on 2 cores; see docs.
        let embedderOptions = options.embedder
        let hash: String
        do {
            embedder = try compute.run { () throws -> TextEmbedder in
                let e = try TextEmbedder(folder: folder, options: embedderOptions)
                try e.encoder.prepareSmallBatches()
                return e
            }
            hash = try ModelFolder.fingerprint(folder, files: ["config.json", "tokenizer.json", "vocab.txt"], weights: "model.safetensors")
        } catch let e as NNError {
            compute.stop()
            throw e
        } catch {
            compute.stop()
            throw NNError("loading the model in \(folder): \(error)")
        }
        info = .allocate(capacity: 1)
        var i = embedd_model_info()
        i.struct_size = UInt32(MemoryLayout<embedd_model_info>.size)
        i.name = strings.make(name)
        i.version = strings.make("fnv64:" + hash)
        // Precision does not change the space: fp32 and bf16 vectors agree to cosine ≥ 0.999.
        i.embedding_space = strings.make("sentence-transformers/\(name)@fnv64:\(hash)")
        i.modalities = EMBEDD_MODALITY_TEXT.rawValue
        i.input_kinds = 1 << EMBEDD_INPUT_TEXT.rawValue
        i.mime_types = nil
        i.mime_type_count = 0
        i.dim = UInt32(embedder.dimension)
        i.metric = EMBEDD_METRIC_COSINE.rawValue
        i.normalized = embedder.normalizes ? 1 : 0
        i.max_tokens = UInt32(embedder.maxSequenceLength)
        i.max_input_bytes = UInt64(options.maxInputBytes)
        i.preferred_batch = UInt32(options.preferredBatch)
        i.max_batch = UInt32(options.maxBatch)
        i.concurrent = 0
        // Alone vs in a batch only the matmul kernels' blocking differs (row counts change the
        // oneDNN primitive); measured ≤ 2e-6 in fp32, bf16 rounds identically per element.
        i.batch_tolerance = 1e-5
        info.initialize(to: i)
    }

    deinit {
        compute.stop()
        info.deinitialize(count: 1)
        info.deallocate()
    }
}
