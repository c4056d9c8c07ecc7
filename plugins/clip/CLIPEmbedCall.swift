import CEmbedABI
import EmbedNN
import EmbedPluginKit
import VisionPluginKit

/// One `embed` call, which may mix texts and pictures: texts are validated and pictures
/// decoded and pre-processed each on its own (a bad input fails alone, naming the problem),
/// then both towers run on the model's compute thread and the normalised vectors are scattered
/// back into the host's rows, with each text's token counts (CLIP cuts texts at 77 tokens; the
/// host reports the cut or, when the caller asked, refuses the text).
struct CLIPEmbedCall {
    let model: CLIPModel
    let batch: EmbedBatch

    func run() throws(PluginError) {
        var texts: [String] = []
        var textRows: [Int] = []
        var imageRows: [Int] = []
        for i in 0..<batch.count {
            switch batch.inputs[i].kind {
            case EMBEDD_INPUT_TEXT.rawValue:
                guard let text = batch.text(at: i, maxBytes: model.options.limits.maxBytes, plugin: "clip") else { continue }
                texts.append(text)
                textRows.append(i)
            case EMBEDD_INPUT_ENCODED.rawValue, EMBEDD_INPUT_RGB8.rawValue:
                imageRows.append(i)
            default:
                batch.fail(i, EMBEDD_ERR_UNSUPPORTED_INPUT,
                           "the clip plugin accepts UTF-8 text, encoded images (JPEG, PNG, WebP) or RGB8 pixels (kind \(batch.inputs[i].kind) given)")
            }
        }
        let size = model.embedder.imageSize
        let images = try PixelBatch(batch, inputs: imageRows, processor: model.processor, height: size, width: size,
                                    limits: model.options.limits)
        guard !texts.isEmpty || !images.rows.isEmpty else { return }

        let dim = model.embedder.dimension
        let embedder = model.embedder
        let cancel = batch.cancellation
        let (pixels, pictureCount) = (images.pixels, images.rows.count)
        do {
            let (textVectors, usage, imageVectors) = try model.compute.run { () throws -> ([Float], [TokenUsage], [Float]) in
                var t = [Float](repeating: 0, count: texts.count * dim)
                let usage = try t.withUnsafeMutableBufferPointer { o in
                    try embedder.embed(texts: texts, into: o.baseAddress!, cancelled: { cancel.isRequested })
                }
                var v = [Float](repeating: 0, count: pictureCount * dim)
                try pixels.withUnsafeBufferPointer { p in
                    try v.withUnsafeMutableBufferPointer { o in
                        try embedder.embed(pixels: p.baseAddress!, count: pictureCount, into: o.baseAddress!,
                                           cancelled: { cancel.isRequested })
                    }
                }
                return (t, usage, v)
            }
            scatter(textVectors, to: textRows, dim: dim)
            scatter(imageVectors, to: images.rows, dim: dim)
            for (k, row) in textRows.enumerated() {
                batch.record(tokens: usage[k].tokens, used: usage[k].used, for: row)
            }
        } catch is TransformerEncoder.Cancelled {
            throw .cancelled
        } catch let e as NNError {
            throw PluginError(EMBEDD_ERR_INTERNAL, e.message)
        } catch {
            throw PluginError(EMBEDD_ERR_INTERNAL, "\(error)")
        }
    }

    private func scatter(_ vectors: [Float], to rows: [Int], dim: Int) {
        vectors.withUnsafeBufferPointer { v in
            for (k, row) in rows.enumerated() { (batch.output + row * dim).update(from: v.baseAddress! + k * dim, count: dim) }
        }
    }
}
