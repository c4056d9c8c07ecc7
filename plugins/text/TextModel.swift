import CEmbedABI
import EmbedNN
import EmbedPluginKit

/// One loaded text model: the embedder, its compute thread, and its description.
final class TextModel: EmbedPluginModel {
    let embedder: TextEmbedder
    let options: TextPluginOptions
    let compute: ComputeThread
    let modelDescription: ModelDescription

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
        embedder = try compute.load(folder) { () throws -> TextEmbedder in
            let e = try TextEmbedder(folder: folder, options: embedderOptions)
            try e.encoder.prepareSmallBatches()
            return e
        }
        let hash = try ModelFolder.fingerprint(folder, files: ["config.json", "tokenizer.json", "vocab.txt"], weights: "model.safetensors")
        // The space is named by what makes the vectors, never by the folder: a copy of the model
        // elsewhere is the same space. Pooling and normalisation (modules.json, 1_Pooling/)
        // are part of it; the version keeps the weights' and tokenizer's fingerprint alone,
        // which earlier releases' space ids carried (`sentence-transformers/<folder>@fnv64:<version>`):
        // the daemon rebinds collections of such ids by it. Precision does not change the
        // space: fp32 and bf16 vectors agree to cosine ≥ 0.999.
        let p = embedder.pooling
        let vectors = "pooling cls=\(p.cls) max=\(p.max) mean=\(p.mean) mean_sqrt_len=\(p.meanSqrtLength); normalize=\(embedder.normalizes)"
        var d = ModelDescription(
            name: name, version: "fnv64:" + hash,
            embeddingSpace: "sentence-transformers@fnv64:" + ModelFolder.fingerprint(hash, mixing: vectors),
            modalities: EMBEDD_MODALITY_TEXT.rawValue, inputKinds: 1 << EMBEDD_INPUT_TEXT.rawValue,
            dim: embedder.dimension, metric: EMBEDD_METRIC_COSINE, normalized: embedder.normalizes,
            maxInputBytes: options.maxInputBytes, preferredBatch: options.preferredBatch, maxBatch: options.maxBatch)
        d.maxTokens = embedder.maxSequenceLength
        // Alone vs in a batch only the matmul kernels' blocking differs (row counts change the
        // oneDNN primitive); measured ≤ 2e-6 in fp32, bf16 rounds identically per element.
        d.batchTolerance = 1e-5
        modelDescription = d
    }

    func embed(_ batch: EmbedBatch) throws(PluginError) {
        try TextEmbedCall(model: self, batch: batch).run()
    }

    deinit { compute.stop() }
}
