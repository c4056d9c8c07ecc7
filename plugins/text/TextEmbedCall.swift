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
        var texts: [String] = []
        var rows: [Int] = []
        for i in 0..<batch.count {
            guard let text = batch.text(at: i, maxBytes: model.options.maxInputBytes, plugin: "text") else { continue }
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
