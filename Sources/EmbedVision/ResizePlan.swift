/// Where each output pixel of a pre-processing comes from, for one input size: the resize (if
/// any), then the centre crops composed into one window, so that only the kept pixels are
/// resampled.
///
/// Output pixel (x, y) is resized pixel (x + offsetX, y + offsetY) inside `valid` and 0 outside
/// it: `transformers`' `center_crop` pads with zeros when the crop is larger than the image.
struct ResizePlan: Equatable {
    /// Target size of the resize, or nil when the input is used as it is.
    var resize: (width: Int, height: Int)?
    var outputWidth: Int
    var outputHeight: Int
    var offsetX = 0
    var offsetY = 0
    /// The output pixels that come from the image, in output coordinates.
    var valid: PixelRect

    static func == (a: Self, b: Self) -> Bool {
        a.resize?.width == b.resize?.width && a.resize?.height == b.resize?.height
            && a.outputWidth == b.outputWidth && a.outputHeight == b.outputHeight
            && a.offsetX == b.offsetX && a.offsetY == b.offsetY && a.valid == b.valid
    }

    init(config: ImageProcessorConfig, width: Int, height: Int) {
        outputWidth = width
        outputHeight = height
        valid = PixelRect(x: 0, y: 0, width: width, height: height)
        if config.doResize {
            switch config.kind {
            case .convNext:
                let edge: Int
                switch config.size {
                case .shortestEdge(let s), .shortestAndLongestEdge(let s, _): edge = s
                case .exact: preconditionFailure("rejected when the configuration was read")
                }
                if edge < 384 {
                    // Keep the ratio with the shorter side at edge / crop_pct, then crop edge².
                    let (h, w) = Self.shortestEdgeSize(height: height, width: width, edge: Int(Double(edge) / config.cropPct))
                    setResize(width: w, height: h)
                    crop(height: edge, width: edge)
                } else {
                    setResize(width: edge, height: edge)  // from 384 up ConvNeXt warps without cropping
                }
            case .clip:
                switch config.size {
                case .shortestEdge(let s):
                    let (h, w) = Self.shortestEdgeSize(height: height, width: width, edge: s)
                    setResize(width: w, height: h)
                case .shortestAndLongestEdge(let s, let l):
                    let (h, w) = Self.aspectRatioSize(height: height, width: width, size: s, maxSize: l)
                    setResize(width: w, height: h)
                case .exact(let h, let w):
                    setResize(width: w, height: h)
                }
            }
        }
        if config.doCenterCrop, let c = config.cropSize {
            crop(height: c.height, width: c.width)
        }
    }

    private mutating func setResize(width: Int, height: Int) {
        resize = (width, height)
        outputWidth = width
        outputHeight = height
        valid = PixelRect(x: 0, y: 0, width: width, height: height)
    }

    /// `center_crop`: top = ⌊(H − h) / 2⌋ (Python's floor division, negative when padding),
    /// composed with the window so far.
    private mutating func crop(height: Int, width: Int) {
        let top = Self.floorHalf(outputHeight - height), left = Self.floorHalf(outputWidth - width)
        let x0 = max(valid.x - left, 0), x1 = min(valid.x + valid.width - left, width)
        let y0 = max(valid.y - top, 0), y1 = min(valid.y + valid.height - top, height)
        valid = PixelRect(x: x0, y: y0, width: max(x1 - x0, 0), height: max(y1 - y0, 0))
        offsetX += left
        offsetY += top
        outputWidth = width
        outputHeight = height
    }

    private static func floorHalf(_ n: Int) -> Int { n >= 0 ? n / 2 : -((-n + 1) / 2) }

    /// `get_resize_output_image_size(size=edge, default_to_square=False)`: the shorter side
    /// becomes `edge`, the longer `int(edge * long / short)` (true division, then truncation).
    static func shortestEdgeSize(height: Int, width: Int, edge: Int) -> (height: Int, width: Int) {
        let (short, long) = width <= height ? (width, height) : (height, width)
        let newLong = Int(Double(edge * long) / Double(short))
        return width <= height ? (newLong, edge) : (edge, newLong)
    }

    /// `get_size_with_aspect_ratio(image_size, size, max_size)`, the shortest + longest edge rule.
    static func aspectRatioSize(height: Int, width: Int, size: Int, maxSize: Int) -> (height: Int, width: Int) {
        var size = size
        var rawSize: Double? = nil
        let minOriginal = Double(min(height, width)), maxOriginal = Double(max(height, width))
        if maxOriginal / minOriginal * Double(size) > Double(maxSize) {
            let raw = Double(maxSize) * minOriginal / maxOriginal
            rawSize = raw
            size = Int(raw.rounded(.toNearestOrEven))  // Python's round(); 0 is refused by the caller
        }
        if (height <= width && height == size) || (width <= height && width == size) {
            return (height, width)
        }
        if width < height {
            let h = rawSize.map { Int($0 * Double(height) / Double(width)) } ?? Int(Double(size * height) / Double(width))
            return (h, size)
        }
        let w = rawSize.map { Int($0 * Double(width) / Double(height)) } ?? Int(Double(size * width) / Double(height))
        return (size, w)
    }
}
