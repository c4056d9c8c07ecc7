import CEmbedABI
import EmbedNN
import EmbedPluginKit
import EmbedVision
import VisionPluginKit

/// One loaded image model: the network, its pre-processor, its compute thread and description.
final class ImageModel: EmbedPluginModel {
    let embedder: ImageEmbedder
    let processor: ImageProcessor
    /// The network's input size: every image is pre-processed to it.
    let inputHeight: Int, inputWidth: Int
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
        guard let size = processor.fixedOutputSize else {
            throw NNError.file(processorPath, "the processor does not crop or resize to one fixed size; a batch needs one (set do_center_crop with crop_size)")
        }
        (inputHeight, inputWidth) = (size.height, size.width)
        compute = try ComputeThread()
        // Everything that runs oneDNN — the weight reorders at load included — runs on the
        // compute thread (one OpenMP team per model; see TextModel).
        var embedderOptions = ImageEmbedder.Options()
        embedderOptions.precision = options.precision
        embedderOptions.threads = options.threads
        embedderOptions.maxBatch = options.forwardBatch
        let (height, width) = (inputHeight, inputWidth)
        embedder = try compute.load(folder) { () throws -> ImageEmbedder in
            let e = try ImageEmbedder(folder: folder, options: embedderOptions)
            // Batches 1…8 at the processor's size are compiled now, not on the first calls.
            try e.prepare(batchSizes: 1...min(8, embedderOptions.maxBatch), height: height, width: width)
            return e
        }
        let hash = try ModelFolder.fingerprint(folder, files: ["config.json", "preprocessor_config.json"], weights: "model.safetensors")
        var d = ModelDescription(
            name: name, version: "fnv64:" + hash,
            // The pre-processor is part of the space: other crops give other vectors.
            // Only the content names the space (not the folder): a copy elsewhere is the same one.
            embeddingSpace: "resnet@fnv64:\(hash)",
            modalities: EMBEDD_MODALITY_IMAGE.rawValue,
            inputKinds: 1 << EMBEDD_INPUT_ENCODED.rawValue | 1 << EMBEDD_INPUT_RGB8.rawValue,
            dim: embedder.dimension, metric: EMBEDD_METRIC_COSINE, normalized: false,
            maxInputBytes: options.limits.maxBytes, preferredBatch: options.preferredBatch, maxBatch: options.maxBatch)
        d.mimeTypes = PixelBatch.mimeTypes
        d.maxPixels = options.limits.maxPixels
        // Alone vs in a batch only the convolution kernels' blocking over the batch differs.
        d.batchTolerance = 1e-4
        modelDescription = d
    }

    func embed(_ batch: EmbedBatch) throws(PluginError) {
        try ImageEmbedCall(model: self, batch: batch).run()
    }

    deinit { compute.stop() }
}
