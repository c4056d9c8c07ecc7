/// Bounds on what a decoder accepts, checked before any pixel memory is allocated: the byte
/// count of the input first, then width × height from the format's header.
public struct ImageLimits: Sendable, Equatable {
    /// The most pixels (width × height) an image may have. Default 50 megapixels: a 50 MP RGB
    /// image is 150 MB decoded, and the largest intermediate (an animated WebP's two RGBA
    /// canvases) 400 MB more.
    public var maxPixels: Int
    /// The most encoded bytes accepted. Default 64 MiB, the daemon's default frame limit.
    public var maxBytes: Int

    /// The defaults above, or the given bounds.
    public init(maxPixels: Int = 50_000_000, maxBytes: Int = 64 << 20) {
        self.maxPixels = maxPixels
        self.maxBytes = maxBytes
    }

    /// Throws `tooManyPixels` unless `width`×`height` is positive and within `maxPixels`.
    /// Dimensions come from headers (up to 2^32 - 1 each), so the product is computed with
    /// overflow checking rather than trusted.
    func check(width: Int, height: Int, format: ImageFormat) throws(MediaError) {
        guard width > 0, height > 0 else {
            throw .corrupt(format, detail: "header declares a \(width)×\(height) image")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maxPixels else {
            throw .tooManyPixels(width: width, height: height, limit: maxPixels)
        }
    }
}
