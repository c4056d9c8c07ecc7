import CEmbedABI
import EmbedMedia
import EmbedNN
import EmbedPluginKit
import EmbedVision

/// One `embed` call: decodes and pre-processes each input on its own (a bad file fails alone,
/// naming the problem), runs the valid ones through the network in one batch on the model's
/// compute thread, and scatters the vectors back into the host's rows.
struct ImageEmbedCall {
    let model: ImageModel
    let batch: EmbedBatch

    func run() throws(PluginError) {
        let processor = model.processor
        let (height, width) = (model.inputHeight, model.inputWidth)
        let perImage = 3 * height * width
        var rows: [Int] = []
        var pixels = [Float](repeating: 0, count: batch.count * perImage)
        for i in 0..<batch.count {
            if i % 8 == 7, batch.cancellation.isRequested { throw .cancelled }
            let image: RGBImage
            switch decode(batch.inputs[i]) {
            case .success(let decoded): image = decoded
            case .failure(let failure):
                batch.fail(i, failure.status, failure.message)
                continue
            }
            let slot = rows.count * perImage
            let done = pixels.withUnsafeMutableBufferPointer { p in
                Result { () throws(VisionError) in try processor.pixelValues(image, into: p.baseAddress! + slot) }
            }
            if case .failure(let e) = done {
                batch.fail(i, EMBEDD_ERR_INVALID_INPUT, "\(e)")
                continue
            }
            rows.append(i)
        }
        guard !rows.isEmpty else { return }

        let dim = model.embedder.dimension
        let embedder = model.embedder
        let cancel = batch.cancellation
        let output = batch.output
        let count = rows.count
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

    struct InputFailure: Error {
        let status: embedd_status
        let message: String
    }

    /// One input as an RGB picture, or why it cannot be one.
    private func decode(_ input: embedd_input) -> Result<RGBImage, InputFailure> {
        let limits = model.options.limits
        guard input.size <= limits.maxBytes else {
            return .failure(InputFailure(status: EMBEDD_ERR_TOO_LARGE, message: "input is \(input.size) bytes; the limit is \(limits.maxBytes) (max_input_bytes)"))
        }
        let bytes = UnsafeRawBufferPointer(start: input.data, count: input.data == nil ? 0 : input.size)
        switch input.kind {
        case EMBEDD_INPUT_ENCODED.rawValue:
            let mime = input.mime_type.map { String(cString: $0) }
            do {
                return .success(try ImageDecoder.decode(bytes: bytes, mimeType: mime, limits: limits))
            } catch {
                switch error {
                case .tooManyBytes, .tooManyPixels: return .failure(InputFailure(status: EMBEDD_ERR_TOO_LARGE, message: error.description))
                default: return .failure(InputFailure(status: EMBEDD_ERR_INVALID_INPUT, message: error.description))
                }
            }
        case EMBEDD_INPUT_RGB8.rawValue:
            let (w, h) = (Int(input.width), Int(input.height))
            guard w > 0, h > 0 else {
                return .failure(InputFailure(status: EMBEDD_ERR_INVALID_INPUT, message: "pixels of \(w)×\(h): width and height must be positive"))
            }
            let (pixels, overflow) = w.multipliedReportingOverflow(by: h)
            guard !overflow, pixels <= limits.maxPixels else {
                return .failure(InputFailure(status: EMBEDD_ERR_TOO_LARGE, message: "image is \(w)×\(h); the limit is \(limits.maxPixels) pixels (max_pixels)"))
            }
            guard input.size == pixels * 3 else {
                return .failure(InputFailure(status: EMBEDD_ERR_INVALID_INPUT, message: "\(input.size) bytes of RGB8 pixels for \(w)×\(h); expected \(pixels * 3)"))
            }
            return .success(RGBImage(width: w, height: h, pixels: Array(bytes)))
        default:
            return .failure(InputFailure(status: EMBEDD_ERR_UNSUPPORTED_INPUT,
                                         message: "the image plugin accepts encoded images (JPEG, PNG, WebP) or RGB8 pixels (kind \(input.kind) given)"))
        }
    }
}
