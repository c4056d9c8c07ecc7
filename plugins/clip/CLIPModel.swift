import CEmbedABI
import EmbedNN
import EmbedPluginKit
import EmbedVision
import VisionPluginKit

/// One loaded CLIP model: both towers and the tokenizer (`CLIPEmbedder`), the image
/// pre-processor, the compute thread and the description the host sees.
final class CLIPModel: EmbedPluginModel {
    let embedder: CLIPEmbedder
    let processor: ImageProcessor
    let options: VisionPluginOptions
    let compute: ComputeThread
    let modelDescription: ModelDescription

    init(folder: String, options: VisionPluginOptions) throws(NNError) {
        self.options = options
        let name = folder.split(separator: "/").last.map(String.init) ?? folder
        let processorPath = folder + "/preprocessor_config.json"
        do { processor = try ImageProcessor(configFile: processorPath) } catch {
            throw NNError("\(error)")
        }
        compute = try ComputeThread()
        // Everything that runs oneDNN — the weight reorders at load included — runs on the
        // compute thread (one OpenMP team per model; see TextModel).
        var embedderOptions = CLIPEmbedder.Options()
        embedderOptions.precision = options.precision
        embedderOptions.threads = options.threads
        embedderOptions.maxBatch = options.forwardBatch
        embedder = try compute.load(folder) { () throws -> CLIPEmbedder in
            let e = try CLIPEmbedder(folder: folder, options: embedderOptions)
            try e.prepare(images: 1...min(8, embedderOptions.maxBatch))
            return e
        }
        // The vision tower takes exactly its image_size²; a processor that makes anything else
        // is a folder that cannot work (transformers would fail on its first picture).
        guard let size = processor.fixedOutputSize, size.height == embedder.imageSize, size.width == embedder.imageSize else {
            throw NNError.file(processorPath, "the processor must crop (or resize) to the model's image_size \(embedder.imageSize)×\(embedder.imageSize) (vision_config in config.json); it makes \(processor.fixedOutputSize.map { "\($0.width)×\($0.height)" } ?? "no fixed size")")
        }
        let hash = try ModelFolder.fingerprint(folder, files: ["config.json", "preprocessor_config.json", "tokenizer.json", "vocab.json", "merges.txt"],
                                               weights: "model.safetensors")
        var d = ModelDescription(
            name: name, version: "fnv64:" + hash,
            // One space for both towers: that is what CLIP is for. The pre-processor and the
            // tokenizer are part of it (another crop or vocabulary gives other vectors).
            // Only the content names it (not the folder): a copy elsewhere is the same space.
            embeddingSpace: "clip@fnv64:\(hash)",
            modalities: EMBEDD_MODALITY_TEXT.rawValue | EMBEDD_MODALITY_IMAGE.rawValue,
            inputKinds: 1 << EMBEDD_INPUT_TEXT.rawValue | 1 << EMBEDD_INPUT_ENCODED.rawValue | 1 << EMBEDD_INPUT_RGB8.rawValue,
            dim: embedder.dimension, metric: EMBEDD_METRIC_COSINE, normalized: true,
            maxInputBytes: options.limits.maxBytes, preferredBatch: options.preferredBatch, maxBatch: options.maxBatch)
        d.mimeTypes = PixelBatch.mimeTypes
        d.maxPixels = options.limits.maxPixels
        d.maxTokens = embedder.maxTokens
        // Alone vs in a batch only the matmul kernels' blocking differs (row counts change the
        // oneDNN primitive); measured on the tiny and full-size models (docs/clip.md).
        d.batchTolerance = 1e-5
        modelDescription = d
    }

    func embed(_ batch: EmbedBatch) throws(PluginError) {
        try CLIPEmbedCall(model: self, batch: batch).run()
    }

    deinit { compute.stop() }
}
