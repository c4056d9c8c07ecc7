import CEmbedABI
import EmbedMedia
import EmbedPluginKit
import EmbedVision

/// The pictures of one `embed` call, decoded and pre-processed into one NCHW batch: each input
/// on its own, so a bad file fails alone with a status naming the problem (recorded in the
/// call's statuses) while the others go on to the network.
package struct PixelBatch {
    /// Indices into the call's inputs whose pixels are in `pixels`, in order.
    package private(set) var rows: [Int] = []
    /// `rows.count` images of `3 × height × width` floats, as the processor makes them.
    package private(set) var pixels: [Float]

    /// Decodes and pre-processes `inputs` (indices into `batch.inputs`, each an
    /// `EMBEDD_INPUT_ENCODED` or `EMBEDD_INPUT_RGB8` input) to `height × width`. Throws only
    /// `.cancelled`, when the host raised the flag (checked every 8 inputs).
    package init(_ batch: EmbedBatch, inputs: [Int], processor: ImageProcessor, height: Int, width: Int,
                 limits: ImageLimits) throws(PluginError) {
        let perImage = 3 * height * width
        pixels = [Float](repeating: 0, count: inputs.count * perImage)
        for (n, i) in inputs.enumerated() {
            if n % 8 == 7, batch.cancellation.isRequested { throw .cancelled }
            let image: RGBImage
            switch Self.decode(batch.inputs[i], limits: limits) {
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
        pixels.removeLast(pixels.count - rows.count * perImage)
    }

    /// Why one input is not a picture.
    struct InputFailure: Error {
        let status: embedd_status
        let message: String
    }

    /// One input as an RGB picture, or why it cannot be one.
    static func decode(_ input: embedd_input, limits: ImageLimits) -> Result<RGBImage, InputFailure> {
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
                                         message: "the model accepts encoded images (JPEG, PNG, WebP) or RGB8 pixels here (kind \(input.kind) given)"))
        }
    }

    /// The MIME types of `EMBEDD_INPUT_ENCODED` inputs the decoders read (content decides;
    /// the type is a hint, docs/media.md).
    package static let mimeTypes = ImageFormat.allCases.map(\.mimeType)
}
