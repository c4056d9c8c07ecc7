import CEmbedABI
import EmbedAudio
import EmbedAV
import EmbedNN
import EmbedPluginKit

/// One loaded Whisper encoder: the encoder (`WhisperEmbedder`), the log-mel front end read
/// from the folder's `preprocessor_config.json`, the compute thread and the description the
/// host sees.
final class AudioModel: EmbedPluginModel {
    let embedder: WhisperEmbedder
    let features: WhisperFeatureExtractor
    let options: AudioPluginOptions
    let compute: ComputeThread
    let modelDescription: ModelDescription


    init(folder: String, options: AudioPluginOptions) throws(NNError) {
        self.options = options
        let name = folder.split(separator: "/").last.map(String.init) ?? folder
        let processorPath = folder + "/preprocessor_config.json"
        do { features = try WhisperFeatureExtractor(configFile: processorPath) } catch {
            throw NNError("\(error)")
        }
        compute = try ComputeThread()
        var embedderOptions = WhisperEmbedder.Options()
        embedderOptions.precision = options.precision
        embedderOptions.threads = options.threads
        embedderOptions.maxBatch = options.forwardBatch
        // Everything that runs oneDNN — the weight reorders at load included — runs on the
        // compute thread (one OpenMP team per model; see TextModel).
        embedder = try compute.load(folder) { () throws -> WhisperEmbedder in
            let e = try WhisperEmbedder(folder: folder, options: embedderOptions)
            try e.prepare(batch: 1...min(2, embedderOptions.maxBatch))
            return e
        }
        guard features.melCount == embedder.melBins else {
            throw NNError.file(processorPath, "feature_size \(features.melCount) differs from the model's num_mel_bins \(embedder.melBins) (config.json)")
        }
        guard features.frameCount == 2 * embedder.maxFrames else {
            throw NNError.file(processorPath, "\(features.config.chunkLength)-s windows make \(features.frameCount) mel frames; the encoder takes \(2 * embedder.maxFrames) (max_source_positions \(embedder.maxFrames) in config.json)")
        }
        let hash = try ModelFolder.fingerprint(folder, files: ["config.json", "preprocessor_config.json"], weights: "model.safetensors")
        var d = ModelDescription(
            name: name, version: "fnv64:" + hash,
            // The front end and the pooling are part of the space: other windows or mel bins give other vectors.
            // Only the content names the space (not the folder): a copy elsewhere is the same one.
            embeddingSpace: "whisper@fnv64:\(hash)",
            modalities: EMBEDD_MODALITY_AUDIO.rawValue,
            inputKinds: 1 << EMBEDD_INPUT_ENCODED.rawValue | 1 << EMBEDD_INPUT_PCM_F32.rawValue | 1 << EMBEDD_INPUT_FD.rawValue,
            dim: embedder.dimension, metric: EMBEDD_METRIC_COSINE, normalized: true,
            maxInputBytes: options.maxInputBytes, preferredBatch: options.preferredBatch, maxBatch: options.maxBatch)
        // The decoder's allow-listed containers by their media types (the sound track of an
        // MP4 or WebM video included).
        d.mimeTypes = AudioDecoder.mimeTypes
        d.maxSeconds = options.maxSeconds
        d.segmentSeconds = Double(features.config.chunkLength)
        // Alone vs in a batch only the matmul kernels' blocking differs (row counts change).
        d.batchTolerance = 1e-5
        modelDescription = d
    }

    /// The decoder's limits for this model's options.
    var audioLimits: AudioLimits {
        AudioLimits(maxSeconds: options.maxSeconds, maxInputBytes: options.maxInputBytes)
    }

    func embed(_ batch: EmbedBatch) throws(PluginError) {
        try AudioEmbedCall(model: self, batch: batch).run()
    }

    deinit { compute.stop() }
}
