import CEmbedABI
import EmbedNN
import EmbedPluginKit
import VisionPluginKit

/// One `embed` call: decodes and pre-processes each input on its own (a bad file fails alone,
/// naming the problem; `PixelBatch`), runs the valid ones through the network in one batch on
/// the model's compute thread, and scatters the vectors back into the host's rows.
struct ImageEmbedCall {
    let model: ImageModel
    let batch: EmbedBatch

    func run() throws(PluginError) {
        let (height, width) = (model.inputHeight, model.inputWidth)
        let images = try PixelBatch(batch, inputs: Array(0..<batch.count), processor: model.processor,
                                    height: height, width: width, limits: model.options.limits)
        let rows = images.rows
        guard !rows.isEmpty else { return }

        let dim = model.embedder.dimension
        let embedder = model.embedder
        let cancel = batch.cancellation
        let output = batch.output
        let count = rows.count
        let pixels = images.pixels
        do {
            let vectors: [Float] = try model.compute.run {
                var out = [Float](repeating: 0, count: count * dim)
                try pixels.withUnsafeBufferPointer { p in
                    try out.withUnsafeMutableBufferPointer { o in
                        try embedder.embed(pixels: p.baseAddress!, count: count, height: height, width: width,
                                           into: o.baseAddress!, cancelled: { cancel.isRequested })
                    }
                }
                return out
            }
            vectors.withUnsafeBufferPointer { v in
                for (k, row) in rows.enumerated() { (output + row * dim).update(from: v.baseAddress! + k * dim, count: dim) }
            }
        } catch is TransformerEncoder.Cancelled {
            throw .cancelled
        } catch let e as NNError {
            throw PluginError(EMBEDD_ERR_INTERNAL, e.message)
        } catch {
            throw PluginError(EMBEDD_ERR_INTERNAL, "\(error)")
        }
    }
}
