import EmbedJSON

/// The settings of a `preprocessor_config.json`, resolved the way `transformers` 5 resolves them
/// for the Pillow backend: a field that is absent or `null` takes the processor class's default;
/// `size` and `crop_size` are normalised as `get_size_dict` does; fields these classes do not read
/// are ignored (and listed in `ignoredFields`), as `transformers` ignores them.
public struct ImageProcessorConfig: Sendable, Equatable {
    /// How `size` is given once normalised (`transformers`' size dictionary).
    public enum Size: Sendable, Equatable {
        /// `{"shortest_edge": n}`: scale so the shorter side is `n` (the longer one truncated).
        case shortestEdge(Int)
        /// `{"shortest_edge": s, "longest_edge": l}`: as above, capped so the longer side is at most `l`.
        case shortestAndLongestEdge(Int, Int)
        /// `{"height": h, "width": w}`: warp to exactly that size.
        case exact(height: Int, width: Int)
    }

    /// The processor class whose rules apply.
    public var kind: ProcessorKind
    /// `do_resize`.
    public var doResize: Bool
    /// `size`.
    public var size: Size
    /// `resample`.
    public var resample: ResamplingFilter
    /// `crop_pct` (ConvNeXt only; used when `size` is a shortest edge below 384).
    public var cropPct: Double
    /// `do_center_crop`.
    public var doCenterCrop: Bool
    /// `crop_size` as (height, width); nil when absent (then `do_center_crop` must be false).
    public var cropSize: (height: Int, width: Int)?
    /// `do_rescale`.
    public var doRescale: Bool
    /// `rescale_factor`.
    public var rescaleFactor: Double
    /// `do_normalize`.
    public var doNormalize: Bool
    /// `image_mean`, one per channel (R, G, B).
    public var imageMean: [Double]
    /// `image_std`, one per channel.
    public var imageStd: [Double]
    /// Fields present in the file that these processors do not read (for a log line).
    public var ignoredFields: [String]

    public static func == (a: Self, b: Self) -> Bool {
        a.kind == b.kind && a.doResize == b.doResize && a.size == b.size && a.resample == b.resample
            && a.cropPct == b.cropPct && a.doCenterCrop == b.doCenterCrop
            && a.cropSize?.height == b.cropSize?.height && a.cropSize?.width == b.cropSize?.width
            && a.doRescale == b.doRescale && a.rescaleFactor == b.rescaleFactor && a.doNormalize == b.doNormalize
            && a.imageMean == b.imageMean && a.imageStd == b.imageStd && a.ignoredFields == b.ignoredFields
    }

    /// The class defaults of `kind` (what an empty file gives).
    public init(kind: ProcessorKind) {
        self.kind = kind
        doResize = true
        resample = .bicubic
        doRescale = true
        rescaleFactor = 1.0 / 255.0
        doNormalize = true
        ignoredFields = []
        switch kind {
        case .convNext:
            size = .shortestEdge(384)
            cropPct = 224.0 / 256.0
            doCenterCrop = false
            cropSize = nil
            imageMean = [0.5, 0.5, 0.5]  // IMAGENET_STANDARD_MEAN
            imageStd = [0.5, 0.5, 0.5]
        case .clip:
            size = .shortestEdge(224)
            cropPct = 224.0 / 256.0
            doCenterCrop = true
            cropSize = (224, 224)
            imageMean = [0.48145466, 0.4578275, 0.40821073]  // OPENAI_CLIP_MEAN
            imageStd = [0.26862954, 0.26130258, 0.27577711]
        }
    }

    /// Fields that only label the file or steer other backends and outputs: read for their type, no effect.
    private static let metadataFields: Set<String> = [
        "image_processor_type", "feature_extractor_type", "processor_class", "do_convert_rgb",
        "data_format", "input_data_format", "return_tensors", "device", "disable_grouping", "image_seq_length",
    ]

    /// Reads a parsed `preprocessor_config.json`; `name` (the path) starts every error message.
    /// `modelType` (config.json's `model_type`) picks the class when the file names none.
    public init(json: JSONValue, name: String, modelType: String? = nil) throws(VisionError) {
        guard let members = json.members else {
            throw .file(name, "expected a JSON object, found \(json.typeName)")
        }
        let reader = FieldReader(json: json, name: name)
        var typeName = try reader.string("image_processor_type")
        if typeName == nil { typeName = try reader.string("feature_extractor_type") }
        let kind: ProcessorKind
        if let typeName {
            guard let k = ProcessorKind(typeName: typeName) else {
                throw .file(name, "unsupported image processor \"\(typeName)\" (embedd supports "
                            + "ConvNextImageProcessor and CLIPImageProcessor)")
            }
            kind = k
        } else if let modelType {
            guard let k = ProcessorKind(modelType: modelType) else {
                throw .file(name, "names no image_processor_type, and model_type \"\(modelType)\" has no known processor")
            }
            kind = k
        } else {
            throw .file(name, "names no image_processor_type or feature_extractor_type")
        }
        self.init(kind: kind)

        if let v = try reader.bool("do_resize") { doResize = v }
        if let v = try reader.bool("do_center_crop") { doCenterCrop = v }
        if let v = try reader.bool("do_rescale") { doRescale = v }
        if let v = try reader.bool("do_normalize") { doNormalize = v }
        _ = try reader.bool("do_convert_rgb")  // inputs are RGB already (EmbedMedia converts as Pillow does)
        if let code = try reader.int("resample") {
            guard let f = ResamplingFilter(rawValue: code) else {
                throw .file(name, "resample: unknown Pillow filter \(code) (0 NEAREST, 1 LANCZOS, 2 BILINEAR, "
                            + "3 BICUBIC, 4 BOX, 5 HAMMING)")
            }
            resample = f
        }
        if let v = try reader.number("rescale_factor") { rescaleFactor = v }
        if kind == .convNext, let v = try reader.number("crop_pct") {
            guard v > 0 else { throw .file(name, "crop_pct: must be positive, found \(v)") }
            cropPct = v
        }
        if let v = try reader.channels("image_mean") { imageMean = v }
        if let v = try reader.channels("image_std") {
            guard !v.contains(0) else { throw .file(name, "image_std: a standard deviation of 0 divides by zero") }
            imageStd = v
        }
        let defaultToSquare = try reader.bool("default_to_square") ?? false  // both classes default to false
        if let v = try reader.size("size", intMeans: defaultToSquare ? .square : .shortestEdge) { size = v }
        if kind == .clip, try reader.bool("use_square_size") == true, case .shortestEdge(let n) = size {
            size = .exact(height: n, width: n)  // CLIPImageProcessor's KOSMOS-2 compatibility switch
        }
        if let v = try reader.size("crop_size", intMeans: .square) {
            guard case .exact(let h, let w) = v else {
                throw .file(name, "crop_size: needs \"height\" and \"width\"")
            }
            cropSize = (h, w)
        }
        if try reader.bool("do_pad") == true {
            throw .file(name, "do_pad: padding is not supported")
        }
        if let format = try reader.string("data_format"), format != "channels_first" {
            throw .file(name, "data_format: only \"channels_first\" is supported, found \"\(format)\"")
        }
        if doCenterCrop && cropSize == nil {
            throw .file(name, "do_center_crop is true but crop_size is missing")
        }
        if doResize, kind == .convNext, case .exact = size {
            throw .file(name, "size: ConvNextImageProcessor needs {\"shortest_edge\": n} or a number")
        }
        let known = Set<String>([
            "do_resize", "size", "resample", "do_center_crop", "crop_size", "do_rescale", "rescale_factor",
            "do_normalize", "image_mean", "image_std", "default_to_square", "do_pad", "pad_size",
        ]).union(Self.metadataFields).union(kind == .convNext ? ["crop_pct"] : ["use_square_size"])
        ignoredFields = members.map(\.0).filter { !known.contains($0) }
    }
}
