import CEmbedABI
import EmbedAV
import EmbedPluginKit

/// One loaded video model: which frames model it composes, how it samples, its description.
/// No weights of its own; its space is its frames model's, so its vectors sit beside that
/// model's pictures and texts.
final class VideoModel: EmbedPluginModel {
    let host: PluginHost
    let frames: HostModel
    let options: VideoOptions
    let modelDescription: ModelDescription


    init(host: PluginHost, frames: HostModel, options: VideoOptions) {
        self.host = host
        self.frames = frames
        self.options = options
        var d = ModelDescription(
            name: "video(\(frames.name))", version: "video-1:" + options.samplingName,
            embeddingSpace: frames.embeddingSpace,
            modalities: EMBEDD_MODALITY_VIDEO.rawValue,
            inputKinds: 1 << EMBEDD_INPUT_ENCODED.rawValue | 1 << EMBEDD_INPUT_FD.rawValue,
            dim: frames.dimension, metric: EMBEDD_METRIC_COSINE, normalized: true,
            maxInputBytes: options.maxInputBytes, preferredBatch: 1, maxBatch: 4)
        d.mimeTypes = VideoReader.mimeTypes
        d.maxSeconds = options.maxSeconds
        d.maxPixels = options.maxPixels
        d.segmentSeconds = options.segmentSeconds
        // Each video is embedded alone; its frames' batching is the frames model's.
        d.batchTolerance = 1e-5
        modelDescription = d
    }

    func embed(_ batch: EmbedBatch) throws(PluginError) {
        try VideoEmbedCall(model: self, batch: batch).run()
    }
}
