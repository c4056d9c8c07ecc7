import CPNG

/// Decodes PNG through libpng's simplified `png_image` API, with the samples Pillow's PNG
/// plugin produces before `convert("RGB")`:
///
/// - 8-bit (and 1/2/4-bit) grey, grey+alpha, RGB, RGBA, palette: the stored samples (low bit
///   depths scaled by bit replication, palette looked up, alpha dropped).
/// - 16-bit RGB and RGBA: the high byte of each sample (Pillow's `RGB;16B`, `RGBA;16B`).
/// - 16-bit grey+alpha: the high byte of grey (Pillow opens it as RGBA via `LA;16B`). libpng
///   would premultiply it, so its header is re-declared as 8-bit RGBA, which has the same row
///   layout and the same filter byte distance (4), and the high byte is read directly.
/// - 16-bit grey: Pillow opens it as `I;16` and `convert("RGB")` clips: values above 255 become
///   255, others keep their value (not scaled). Reproduced as is.
///
/// The one inexact case: 16-bit RGBA with partial transparency. The simplified API returns
/// 16-bit alpha images premultiplied, so colour is recovered as `c' × 65535 / a` (exact where
/// opaque, within one step of the high byte where translucent, 0 where fully transparent).
enum PNGDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, limits: ImageLimits) throws(MediaError) -> RGBImage {
        let container = try PNGContainer.parse(bytes)
        try limits.check(width: container.width, height: container.height, format: .png)
        let orientation = container.orientation(bytes)
        let ga16 = container.bitDepth == 16 && container.colorType == 4
        let image: RGBImage
        if container.hidden.isEmpty && !ga16 {
            image = try PNGImage.read(bytes, limits: limits, fromGA16: false)
        } else {
            let copy = try container.rewritten(bytes, ga16AsRGBA8: ga16)
            image = try copy.withUnsafeBytes { b in
                Result { () throws(MediaError) in try PNGImage.read(b, limits: limits, fromGA16: ga16) }
            }.get()
        }
        return image.applying(orientation)
    }
}

/// Owns one heap-allocated `png_image` (libpng keeps its address as the error-callback
/// argument between begin and finish, so it must not move) and frees it in `deinit`.
struct PNGImage: ~Copyable {
    private let image: UnsafeMutablePointer<png_image>

    private init() {
        image = .allocate(capacity: 1)
        image.initialize(to: png_image())
        image.pointee.version = UInt32(PNG_IMAGE_VERSION)
    }

    deinit {
        png_image_free(image)  // no-op when libpng already freed it (opaque == nil)
        image.deallocate()
    }

    private var message: String {
        withUnsafeBytes(of: image.pointee.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private func failure() -> MediaError {
        let text = message.isEmpty ? "libpng failed without a message" : message
        if text.contains("end of data") || text.contains("Not enough image data") || text.contains("unexpected end")
            || text.contains("Read Error") || text.contains("truncated") {
            return .truncated(.png, detail: text)
        }
        if text.contains("not supported") || text.contains("unsupported") {
            return .unsupported(.png, detail: text)
        }
        return .corrupt(.png, detail: text)
    }

    static func read(_ bytes: UnsafeRawBufferPointer, limits: ImageLimits, fromGA16: Bool) throws(MediaError) -> RGBImage {
        let png = PNGImage()
        guard png_image_begin_read_from_memory(png.image, bytes.baseAddress, bytes.count) != 0 else {
            throw png.failure()
        }
        let width = Int(png.image.pointee.width), height = Int(png.image.pointee.height)
        try limits.check(width: width, height: height, format: .png)
        let pixels = width * height  // ≤ maxPixels
        let format = png.image.pointee.format
        let linear = format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0
        let color = format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let alpha = format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        // The file's own layout (palette expanded to RGB): no conversion inside libpng.
        var request = UInt32(0)
        if color { request |= UInt32(PNG_FORMAT_FLAG_COLOR) }
        if alpha { request |= UInt32(PNG_FORMAT_FLAG_ALPHA) }
        if linear { request |= UInt32(PNG_FORMAT_FLAG_LINEAR) }
        png.image.pointee.format = request
        let channels = (color ? 3 : 1) + (alpha ? 1 : 0)

        if linear {
            let samples = [UInt16](unsafeUninitializedCapacity: pixels * channels) { buf, n in
                n = pixels * channels
                if png_image_finish_read(png.image, nil, buf.baseAddress, 0, nil) == 0 { n = 0 }
            }
            guard samples.count == pixels * channels else { throw png.failure() }
            return RGBImage(width: width, height: height,
                            pixels: Self.fromLinear(samples, pixels: pixels, color: color, alpha: alpha))
        }
        if channels == 3 {
            let rgb = [UInt8](unsafeUninitializedCapacity: pixels * 3) { buf, n in
                n = pixels * 3
                if png_image_finish_read(png.image, nil, buf.baseAddress, 0, nil) == 0 { n = 0 }
            }
            guard rgb.count == pixels * 3 else { throw png.failure() }
            return RGBImage(width: width, height: height, pixels: rgb)
        }
        let samples = [UInt8](unsafeUninitializedCapacity: pixels * channels) { buf, n in
            n = pixels * channels
            if png_image_finish_read(png.image, nil, buf.baseAddress, 0, nil) == 0 { n = 0 }
        }
        guard samples.count == pixels * channels else { throw png.failure() }
        let rgb = [UInt8](unsafeUninitializedCapacity: pixels * 3) { out, n in
            samples.withUnsafeBufferPointer { s in
                for p in 0..<pixels {
                    if channels == 4 && !fromGA16 {  // RGBA: drop alpha
                        out[3 * p] = s[4 * p]; out[3 * p + 1] = s[4 * p + 1]; out[3 * p + 2] = s[4 * p + 2]
                    } else {  // grey, grey+alpha, or 16-bit grey+alpha read as (Ghi Glo Ahi Alo)
                        let v = s[channels * p]
                        out[3 * p] = v; out[3 * p + 1] = v; out[3 * p + 2] = v
                    }
                }
            }
            n = pixels * 3
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    /// 16-bit samples (native byte order) to Pillow's 8-bit values; see `PNGDecoder`.
    static func fromLinear(_ s: [UInt16], pixels: Int, color: Bool, alpha: Bool) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: pixels * 3) { out, n in
            s.withUnsafeBufferPointer { s in
                switch (color, alpha) {
                case (false, _):  // I;16 → RGB clips (alpha never occurs: read as 8-bit RGBA)
                    let step = alpha ? 2 : 1
                    for p in 0..<pixels {
                        let v = s[step * p]
                        let c = v > 255 ? 255 : UInt8(v)
                        out[3 * p] = c; out[3 * p + 1] = c; out[3 * p + 2] = c
                    }
                case (true, false):
                    for i in 0..<(pixels * 3) { out[i] = UInt8(s[i] >> 8) }
                case (true, true):
                    for p in 0..<pixels {
                        let a = UInt32(s[4 * p + 3])
                        for c in 0..<3 {
                            let premultiplied = UInt32(s[4 * p + c])
                            let v: UInt32 = a == 0 ? 0 : min(65535, (premultiplied * 65535 + a / 2) / a)
                            out[3 * p + c] = UInt8(v >> 8)
                        }
                    }
                }
            }
            n = pixels * 3
        }
    }
}
