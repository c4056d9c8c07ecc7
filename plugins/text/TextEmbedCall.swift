import CEmbedABI
import EmbedNN

/// One `embed` call: validates each input on its own (kind, size, UTF-8, empty), embeds the
/// valid ones on the model's compute thread in one length-sorted batch, and scatters the
/// vectors and per-input statuses back into the host's buffers.
struct TextEmbedCall {
    let model: TextModel
    let request: UnsafePointer<embedd_embed_request>

    func fail(_ i: Int, _ status: embedd_status, _ message: String) {
        let statuses = request.pointee.statuses!
        statuses[i].status = Int32(status.rawValue)
        withUnsafeMutableBytes(of: &statuses[i].message) { raw in
            message.withCString { embedd_copy_message(raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count, $0) }
        }
    }

    func wholeCallError(_ status: embedd_status, _ message: String) -> Int32 {
        if let e = request.pointee.error, request.pointee.error_capacity > 0 {
            message.withCString { embedd_copy_message(e, request.pointee.error_capacity, $0) }
        }
        return Int32(status.rawValue)
    }

    func run() -> Int32 {
        let r = request.pointee
        let count = Int(r.count)
        guard count > 0, let inputs = r.inputs, let output = r.output, r.statuses != nil else {
            return wholeCallError(EMBEDD_ERR_INTERNAL, "embed: empty batch or NULL buffers")
        }
        guard count <= model.options.maxBatch else {
            return wholeCallError(EMBEDD_ERR_TOO_LARGE, "batch of \(count) inputs exceeds max_batch \(model.options.maxBatch)")
        }
        let cancel = r.cancel
        if embedd_cancel_requested(cancel) != 0 { return wholeCallError(EMBEDD_ERR_CANCELLED, "cancelled") }

        var texts: [String] = []
        var rows: [Int] = []
        for i in 0..<count {
            let input = inputs[i]
            guard input.kind == EMBEDD_INPUT_TEXT.rawValue else {
                fail(i, EMBEDD_ERR_UNSUPPORTED_INPUT, "input \(i): the text plugin accepts only UTF-8 text (kind \(input.kind) given)")
                continue
            }
            guard input.size <= model.options.maxInputBytes else {
                fail(i, EMBEDD_ERR_TOO_LARGE, "input \(i): \(input.size) bytes exceeds max_input_bytes \(model.options.maxInputBytes)")
                continue
            }
            guard input.size > 0, let data = input.data else {
                fail(i, EMBEDD_ERR_INVALID_INPUT, "input \(i): empty text")
                continue
            }
            guard let text = String(validating: UnsafeBufferPointer(start: data, count: input.size), as: UTF8.self) else {
                fail(i, EMBEDD_ERR_INVALID_INPUT, "input \(i): text is not valid UTF-8")
                continue
            }
            texts.append(text)
            rows.append(i)
        }
        guard !texts.isEmpty else { return Int32(EMBEDD_OK.rawValue) }

        let dim = model.embedder.dimension
        let embedder = model.embedder
        do {
            let errors: [NNError?] = try model.compute.run {
                var out = [Float](repeating: 0, count: texts.count * dim)
                let errors = try out.withUnsafeMutableBufferPointer { buffer in
                    try embedder.embed(texts, into: buffer.baseAddress!, cancelled: { embedd_cancel_requested(cancel) != 0 })
                }
                for (k, row) in rows.enumerated() where errors[k] == nil {
                    (output + row * dim).update(from: out.withUnsafeBufferPointer { $0.baseAddress! + k * dim }, count: dim)
                }
                return errors
            }
            for (k, row) in rows.enumerated() {
                if let e = errors[k] { fail(row, EMBEDD_ERR_TOO_LARGE, "input \(row): \(e.message)") }
            }
            return Int32(EMBEDD_OK.rawValue)
        } catch is TransformerEncoder.Cancelled {
            return wholeCallError(EMBEDD_ERR_CANCELLED, "cancelled")
        } catch let e as NNError {
            return wholeCallError(EMBEDD_ERR_INTERNAL, e.message)
        } catch {
            return wholeCallError(EMBEDD_ERR_INTERNAL, "\(error)")
        }
    }
}
