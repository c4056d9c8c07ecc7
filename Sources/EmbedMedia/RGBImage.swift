/// A decoded picture: 8-bit RGB, rows top to bottom, no padding (`width * 3` bytes per row).
///
/// The one pixel currency between decoding (this module), pre-processing (EmbedVision) and the
/// vision plugins: every decoder converts to it the way Pillow's `convert("RGB")` does, and raw
/// `EMBEDD_INPUT_RGB8` inputs are wrapped in it without conversion.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `width * height * 3` bytes, R G B per pixel.
    public var pixels: [UInt8]

    /// Wraps pixels already in the layout above. Traps when the count does not match: callers
    /// check sizes (and the pixel limit) before allocating.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3,
                     "RGBImage: \(pixels.count) bytes for \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}
