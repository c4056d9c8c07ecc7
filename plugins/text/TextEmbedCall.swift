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
                batch.fail(i, EMBEDD_ERR_UNSUPPORTED_INPUT, "the text plugin accepts only UTF-8 text (kind \(input.kind) given)")
                continue
            }
            guard input.size <= model.options.maxInputBytes else {
                batch.fail(i, EMBEDD_ERR_TOO_LARGE, "\(input.size) bytes exceeds max_input_bytes \(model.options.maxInputBytes)")
                continue
            }
            guard input.size > 0, let data = input.data else {
                batch.fail(i, EMBEDD_ERR_INVALID_INPUT, "empty text")
                continue
            }
            guard let text = String(validating: UnsafeBufferPointer(start: data, count: input.size), as: UTF8.self) else {
                batch.fail(i, EMBEDD_ERR_INVALID_INPUT, "text is not valid UTF-8")
                continue
            }
            // One rule for "no text": whitespace alone is refused like "" (it would embed the
            // same [CLS][SEP] vector for every such input).
            guard text.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
                batch.fail(i, EMBEDD_ERR_INVALID_INPUT, "empty text (only whitespace)")
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
            let outcomes: [Result<TokenUsage, NNError>] = try model.compute.run {
                var out = [Float](repeating: 0, count: texts.count * dim)
                let outcomes = try out.withUnsafeMutableBufferPointer { buffer in
                    try embedder.embed(texts, into: buffer.baseAddress!, cancelled: { cancel.isRequested })
                }
                for (k, row) in rows.enumerated() where (try? outcomes[k].get()) != nil {
                    (output + row * dim).update(from: out.withUnsafeBufferPointer { $0.baseAddress! + k * dim }, count: dim)
                }
                return outcomes
            }
            for (k, row) in rows.enumerated() {
                switch outcomes[k] {
                case .success(let u): batch.record(tokens: u.tokens, used: u.used, chunks: u.chunks, for: row)
                case .failure(let e): batch.fail(row, EMBEDD_ERR_TOO_LARGE, e.message)
                }
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
