import EmbedJSON
import EmbedMedia
import EmbedSys

/// A model folder's image pre-processing, identical to `transformers`' Pillow-backend image
/// processor for the same `preprocessor_config.json` (`ConvNextImageProcessor`,
/// `CLIPImageProcessor`): Pillow's resize on 8-bit pixels, centre crop (zero padding when the
/// crop is larger), then rescale and normalise in float32 in the order `transformers` does them.
///
/// The resize and the crops are fused: only the pixels the crop keeps are resampled, with the
/// values the full resize would give them. Immutable and `Sendable`: one instance serves every
/// thread.
public struct ImageProcessor: Sendable {
    /// The resolved settings.
    public let config: ImageProcessorConfig
    /// 3 × 256 float32 values: channel c of byte v becomes `table[c * 256 + v]`, computed once
    /// with `transformers`' exact float operations, so normalising is a lookup.
    private let table: [Float]

    /// Outputs above this many pixels are refused (they could only come from absurd aspect ratios).
    public static let maxOutputPixels = 1 << 26

    /// Reads `path` (a `preprocessor_config.json`). `modelType`, config.json's `model_type`,
    /// picks the processor when the file names none (as `AutoImageProcessor` does).
    public init(configFile path: String, modelType: String? = nil) throws(VisionError) {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path, limit: 1 << 20) } catch {
            throw .file(path, "cannot read: \(error)")
        }
        guard bytes.count < 1 << 20 else { throw .file(path, "larger than 1 MiB") }
        try self.init(configJSON: bytes, name: path, modelType: modelType)
    }

    /// Parses the bytes of a `preprocessor_config.json`; `name` starts every error message.
    public init(configJSON bytes: [UInt8], name: String, modelType: String? = nil) throws(VisionError) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes, options: .strict)  // Python's json module is strict too
        } catch {
            let (line, column) = error.location(in: bytes)
            throw .file(name, "invalid JSON at line \(line), column \(column): \(error.message)")
        }
        self.init(config: try ImageProcessorConfig(json: json, name: name, modelType: modelType))
    }

    /// A processor with settings already resolved.
    public init(config: ImageProcessorConfig) {
        self.config = config
        var table = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            let mean = Float(config.imageMean[c]), std = Float(config.imageStd[c])
            for v in 0..<256 {
                // rescale: uint8 → float64, times the factor, → float32; normalize: float32 (x - mean) / std.
                var x = config.doRescale ? Float(Double(v) * config.rescaleFactor) : Float(v)
                if config.doNormalize { x = (x - mean) / std }
                table[c * 256 + v] = x
            }
        }
        self.table = table
    }

    /// The output size for every input, when it does not depend on the input (a crop, a
    /// ConvNeXt square or an exact resize); nil otherwise.
    public var fixedOutputSize: (width: Int, height: Int)? {
        if config.doCenterCrop, let c = config.cropSize { return (c.width, c.height) }
        guard config.doResize else { return nil }
        switch (config.kind, config.size) {
        case (.convNext, .shortestEdge(let s)), (.convNext, .shortestAndLongestEdge(let s, _)): return (s, s)
        case (_, .exact(let h, let w)): return (w, h)
        default: return nil
        }
    }

    /// The size `preprocess` gives an image of `width` × `height`.
    public func outputSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let plan = ResizePlan(config: config, width: width, height: height)
        return (plan.outputWidth, plan.outputHeight)
    }

    /// The 8-bit image after resize and crop, before rescaling: what `transformers` feeds to
    /// `rescale` (the golden tests compare it pixel for pixel).
    public func preprocess(_ image: RGBImage) throws(VisionError) -> RGBImage {
        let plan = try checkedPlan(image)
        var pixels = [UInt8](repeating: 0, count: plan.outputWidth * plan.outputHeight * 3)
        pixels.withUnsafeMutableBufferPointer { render(image, plan, into: $0.baseAddress!) }
        return RGBImage(width: plan.outputWidth, height: plan.outputHeight, pixels: pixels)
    }

    /// Writes the model input for `image`: float32 `[3, height, width]` (channel planes R, G, B,
    /// rows top to bottom), the slice of an NCHW batch, `height` × `width` being
    /// `outputSize(width:height:)` — `transformers`' `pixel_values[i]`, bit for bit.
    public func pixelValues(_ image: RGBImage, into destination: UnsafeMutablePointer<Float>) throws(VisionError) {
        let crop = try preprocess(image)
        normalize(crop, into: destination)
    }

    /// Rescales and normalises an image that is already pre-processed (`preprocess`'s output)
    /// into `[3, height, width]` float32.
    public func normalize(_ crop: RGBImage, into destination: UnsafeMutablePointer<Float>) {
        let plane = crop.width * crop.height
        table.withUnsafeBufferPointer { t in
            crop.pixels.withUnsafeBufferPointer { px in
                let r = t.baseAddress!, g = r + 256, b = r + 512
                let p = px.baseAddress!
                let d0 = destination, d1 = destination + plane, d2 = destination + 2 * plane
                for i in 0..<plane {
                    d0[i] = r[Int(p[3 * i])]
                    d1[i] = g[Int(p[3 * i + 1])]
                    d2[i] = b[Int(p[3 * i + 2])]
                }
            }
        }
    }

    private func checkedPlan(_ image: RGBImage) throws(VisionError) -> ResizePlan {
        let plan = ResizePlan(config: config, width: image.width, height: image.height)
        let sizes = [plan.resize?.width, plan.resize?.height, plan.outputWidth, plan.outputHeight].compactMap { $0 }
        guard sizes.allSatisfy({ $0 > 0 }),
              plan.outputWidth.multipliedReportingOverflow(by: plan.outputHeight).partialValue <= Self.maxOutputPixels,
              plan.outputWidth <= Self.maxOutputPixels, plan.outputHeight <= Self.maxOutputPixels else {
            throw VisionError("image \(image.width)×\(image.height): pre-processing would make a "
                              + "\(plan.outputWidth)×\(plan.outputHeight) image (aspect ratio too extreme)")
        }
        return plan
    }

    /// Resizes the kept window straight into the output rows; the rest stays zero.
    private func render(_ image: RGBImage, _ plan: ResizePlan, into out: UnsafeMutablePointer<UInt8>) {
        let v = plan.valid
        guard v.width > 0 && v.height > 0 else { return }
        let source = PixelRect(x: v.x + plan.offsetX, y: v.y + plan.offsetY, width: v.width, height: v.height)
        let rowBytes = plan.outputWidth * 3
        let first = out + v.y * rowBytes + v.x * 3
        if v.width == plan.outputWidth {
            resample(image, plan, source, into: first)  // rows are contiguous in the output
        } else {
            let temp = UnsafeMutablePointer<UInt8>.allocate(capacity: v.width * v.height * 3)
            defer { temp.deallocate() }
            resample(image, plan, source, into: temp)
            for r in 0..<v.height {
                (first + r * rowBytes).update(from: temp + r * v.width * 3, count: v.width * 3)
            }
        }
    }

    private func resample(_ image: RGBImage, _ plan: ResizePlan, _ source: PixelRect, into out: UnsafeMutablePointer<UInt8>) {
        let size = plan.resize ?? (image.width, image.height)  // no resize: an unchanged size is a copy
        PillowResize.resize(image, width: size.width, height: size.height, filter: config.resample,
                            window: source, into: out)
    }
}
