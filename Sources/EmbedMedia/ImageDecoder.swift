/// Decodes JPEG, PNG and WebP bytes into `RGBImage` with the pixels Pillow gives for
/// `ImageOps.exif_transpose(Image.open(f)).convert("RGB")` (see docs/media.md for each case).
///
/// Hostile input is expected: sizes are checked against `ImageLimits` before any pixel memory
/// is allocated, every failure is a `MediaError` naming the problem, and no input traps.
/// Thread-safe: each call owns its decoder state.
public enum ImageDecoder {
    /// Decodes `bytes`, choosing the decoder by content (`ImageFormat.sniff`).
    ///
    /// - Parameter mimeType: the declared type, a hint only: content that is JPEG, PNG or WebP
    ///   decodes as what it is whatever was declared; it appears in the error when the content
    ///   is none of them.
    public static func decode(bytes: UnsafeRawBufferPointer, mimeType: String? = nil,
                              limits: ImageLimits = ImageLimits()) throws(MediaError) -> RGBImage {
        guard !bytes.isEmpty else { throw .emptyInput }
        guard bytes.count <= limits.maxBytes else { throw .tooManyBytes(count: bytes.count, limit: limits.maxBytes) }
        guard let format = ImageFormat.sniff(bytes) else {
            throw .unrecognized(declared: mimeType, prefix: Array(bytes.prefix(8)))
        }
        switch format {
        case .jpeg: return try JPEGDecoder().decode(bytes, limits: limits)
        case .png: return try PNGDecoder.decode(bytes, limits: limits)
        case .webp: return try WebPDecoder.decode(bytes, limits: limits)
        }
    }

    /// `decode(bytes:mimeType:limits:)` over an array.
    public static func decode(bytes: [UInt8], mimeType: String? = nil,
                              limits: ImageLimits = ImageLimits()) throws(MediaError) -> RGBImage {
        // Array.withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
        try bytes.withUnsafeBytes { raw in
            Result { () throws(MediaError) in try decode(bytes: raw, mimeType: mimeType, limits: limits) }
        }.get()
    }
}
