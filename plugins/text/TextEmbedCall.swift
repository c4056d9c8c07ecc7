import CEmbedABI
import EmbedNN
import EmbedPluginKit

/// One `embed` call: validates each input on its own (kind, size, UTF-8, empty), embeds the
/// valid ones on the model's compute thread in one length-sorted batch, and scatters the
/// vectors and per-input statuses back into the host's buffers. EmbedPluginKit has already
/// checked the whole call (buffers, max_batch, a raised flag).
struct TextEmbedCall {
    let model: TextModel
    let batch: EmbedBatch

    func run() throws(PluginError) {
        let inputs = batch.inputs
        var texts: [String] = []
        var rows: [Int] = []
        for i in 0..<batch.count {
            let input = inputs[i]
            guard input.kind == EMBEDD_INPUT_TEXT.rawValue else {
                batch.fail(i, EMBEDD_ERR_UNSUPPORTED_INPUT, "input \(i): the text plugin accepts only UTF-8 text (kind \(input.kind) given)")
                continue
            }
            guard input.size <= model.options.maxInputBytes else {
                batch.fail(i, EMBEDD_ERR_TOO_LARGE, "input \(i): \(input.size) bytes exceeds max_input_bytes \(model.options.maxInputBytes)")
                continue
            }
            guard input.size > 0, let data = input.data else {
                batch.fail(i, EMBEDD_ERR_INVALID_INPUT, "input \(i): empty text")
                continue
            }
            guard let text = String(validating: UnsafeBufferPointer(start: data, count: input.size), as: UTF8.self) else {
                batch.fail(i, EMBEDD_ERR_INVALID_INPUT, "input \(i): text is not valid UTF-8")
                continue
            }
            texts.append(text)
            rows.append(i)
        }
        guard !texts.isEmpty else { return }

        let dim = model.embedder.dimension
        let embedder = model.embedder
        let cancel = batch.cancellation
        let output = batch.output
        do {
            let errors: [NNError?] = try model.compute.run {
                var out = [Float](repeating: 0, count: texts.count * dim)
                let errors = try out.withUnsafeMutableBufferPointer { buffer in
                    try embedder.embed(texts, into: buffer.baseAddress!, cancelled: { cancel.isRequested })
                }
                for (k, row) in rows.enumerated() where errors[k] == nil {
                    (output + row * dim).update(from: out.withUnsafeBufferPointer { $0.baseAddress! + k * dim }, count: dim)
                }
                return errors
            }
            for (k, row) in rows.enumerated() {
                if let e = errors[k] { batch.fail(row, EMBEDD_ERR_TOO_LARGE, "input \(row): \(e.message)") }
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
