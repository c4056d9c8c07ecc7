import EmbedSys

/// An image model loaded from its Hugging Face folder exactly as shipped: `config.json` +
/// `model.safetensors` of a ResNet (`ResNetModel` or `ResNetForImageClassification`, e.g.
/// microsoft/resnet-50). It maps pre-processed pixels (NCHW fp32, as the model's image
/// processor produces them; EmbedVision does that) to the pooled feature vector.
///
/// Not thread-safe: the owner calls `embed` from one compute thread at a time (oneDNN's
/// OpenMP threads do the parallel work inside).
public final class ImageEmbedder: @unchecked Sendable {
    // Invariant: immutable after init except the network's plan cache (compute thread only).

    /// Load-time options (the image plugin's option strings map onto these).
    public struct Options: Sendable {
        /// Requested precision; `effectivePrecision` says what the CPU allows.
        public var precision: Precision = .fp32
        /// OpenMP threads (0: runtime default, i.e. all cores or OMP_NUM_THREADS).
        public var threads = 0
        /// Most images per forward pass; larger calls are split. Bounds activation memory
        /// (≈ 13 MB per 224² image for a ResNet-50 in fp32); larger passes gain no speed.
        public var maxBatch = 16
        public init() {}
    }

    /// The folder it was loaded from.
    public let folder: String
    /// Output dimension (`hidden_sizes.last`).
    public let dimension: Int
    /// Input channels per pixel (`num_channels`, 3 for RGB).
    public let channels: Int
    /// The precision in use after the CPU check.
    public let effectivePrecision: Precision
    /// The options it was loaded with.
    public let options: Options
    /// The network.
    public let network: ResNet

    /// Largest height or width accepted (bounds activation memory; pre-processors crop to 224).
    public static let maxSide = 4096

    /// Loads and validates a model folder; every problem is an `NNError` naming the file.
    public init(folder: String, options: Options = Options()) throws(NNError) {
        self.folder = folder
        self.options = options
        guard FileSystem.isDirectory(folder) else { throw NNError.file(folder, "not a directory") }
        let configPath = folder + "/config.json"
        let config = try ResNetConfig(json: try ModelFolder.readJSON(configPath), path: configPath)
        let weightsPath = try ModelFolder.safetensorsPath(folder)
        guard options.maxBatch > 0 else { throw NNError("maxBatch must be positive") }
        let weights = try SafeTensorsFile(path: weightsPath)
        effectivePrecision = Precision.effective(options.precision)
        let context = try ComputeContext(threads: options.threads)
        network = try ResNet(config: config, weights: weights, context: context, precision: effectivePrecision)
        dimension = config.dimension
        channels = config.channels
    }

    /// Compiles the forward passes for batches of `batchSizes` images of `height`×`width` now
    /// (tens of milliseconds each for a ResNet-50); call it on the compute thread.
    public func prepare(batchSizes: ClosedRange<Int>, height: Int = 224, width: Int = 224) throws(NNError) {
        try network.prepare(batchSizes.map { ResNet.Shape(batch: min($0, options.maxBatch), height: height, width: width) })
    }

    /// Embeds `count` images of `channels`×`height`×`width` floats each (`pixels`: plain NCHW,
    /// normalised as the model's pre-processor does), writing `dimension` floats per image to
    /// `output` in input order. Calls larger than `maxBatch` run in several passes;
    /// `cancelled` is polled between layers (`TransformerEncoder.Cancelled`).
    public func embed(pixels: UnsafePointer<Float>, count: Int, height: Int, width: Int,
                      into output: UnsafeMutablePointer<Float>, cancelled: () -> Bool = { false }) throws {
        guard count >= 0 else { throw NNError("image count \(count) is negative") }
        guard (1...Self.maxSide).contains(height), (1...Self.maxSide).contains(width) else {
            throw NNError("image size \(width)×\(height) is outside 1…\(Self.maxSide) pixels per side")
        }
        let perImage = channels * height * width
        var start = 0
        while start < count {
            let n = min(options.maxBatch, count - start)
            try network.forward(pixels + start * perImage, shape: .init(batch: n, height: height, width: width),
                                into: output + start * dimension, cancelled: cancelled)
            start += n
        }
    }

    /// Convenience: embeds `count` images from `pixels` (NCHW) and returns one vector per image.
    public func embed(pixels: [Float], count: Int, height: Int, width: Int) throws -> [[Float]] {
        guard pixels.count == count * channels * height * width else {
            throw NNError("\(pixels.count) pixel values do not make \(count) images of \(channels)×\(height)×\(width)")
        }
        guard count > 0 else { return [] }
        var out = [Float](repeating: 0, count: count * dimension)
        try pixels.withUnsafeBufferPointer { p in
            try out.withUnsafeMutableBufferPointer { o in
                try embed(pixels: p.baseAddress!, count: count, height: height, width: width, into: o.baseAddress!)
            }
        }
        return (0..<count).map { Array(out[($0 * dimension)..<(($0 + 1) * dimension)]) }
    }
}
