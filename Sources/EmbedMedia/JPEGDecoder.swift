import CTurboJPEG

/// Decodes JPEG through TurboJPEG the way Pillow's JPEG plugin decodes through libjpeg:
/// accurate integer IDCT (JDCT_ISLOW, libjpeg's default, which Pillow keeps) and fancy
/// upsampling (on unless TJFLAG_FASTUPSAMPLE), output RGB for 1- and 3-component files
/// (greyscale replicated R=G=B, as Pillow's L→RGB), CMYK for 4-component (CMYK or YCCK) files
/// converted with Pillow's formula. TJFLAG_LIMITSCANS refuses progressive files with more than
/// 500 scans, a known CPU-exhaustion trick that no real encoder produces.
///
/// Owns one TurboJPEG handle for one decode; nothing here escapes the call.
struct JPEGDecoder: ~Copyable {
    private let handle: tjhandle

    init() throws(MediaError) {
        guard let h = tjInitDecompress() else {
            throw .corrupt(.jpeg, detail: "TurboJPEG could not create a decompressor (out of memory?)")
        }
        handle = h
    }

    deinit { tjDestroy(handle) }

    /// The library's message for the last failure on this handle (thread-local in TurboJPEG).
    private func message() -> String {
        guard let s = tjGetErrorStr2(handle) else { return "unknown TurboJPEG error" }
        return String(cString: s)
    }

    /// Data that stops before the end-of-image marker is reported as truncated whatever libjpeg
    /// tripped over first (a cut inside a table reads as "Bogus Huffman table definition"), with
    /// libjpeg's words as the detail.
    private func failure(_ text: String, _ bytes: UnsafeRawBufferPointer) -> MediaError {
        if text.contains("Premature end") || !Self.endsWithEOI(bytes) {
            return .truncated(.jpeg, detail: text)
        }
        if text.contains("Unsupported") || text.contains("unsupported") {
            return .unsupported(.jpeg, detail: text)
        }
        return .corrupt(.jpeg, detail: text)
    }

    /// Whether the data ends with the EOI marker (FF D9), ignoring trailing zero padding.
    static func endsWithEOI(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var end = bytes.count
        while end > 0 && bytes[end - 1] == 0 { end -= 1 }
        return end >= 2 && bytes[end - 2] == 0xFF && bytes[end - 1] == 0xD9
    }

    func decode(_ bytes: UnsafeRawBufferPointer, limits: ImageLimits) throws(MediaError) -> RGBImage {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { throw .emptyInput }
        let size = UInt(bytes.count)
        var w: Int32 = 0, h: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        guard tjDecompressHeader3(handle, base, size, &w, &h, &subsampling, &colorspace) == 0 else {
            throw failure(message(), bytes)
        }
        let width = Int(w), height = Int(h)
        try limits.check(width: width, height: height, format: .jpeg)
        let orientation = JPEGMarkers.orientation(bytes)

        let cmyk = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        let channels = cmyk ? 4 : 3
        let count = width * height * channels  // ≤ 4 × maxPixels: checked above
        let flags = TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS
        let format = cmyk ? Int32(TJPF_CMYK.rawValue) : Int32(TJPF_RGB.rawValue)
        var status: Int32 = 0
        var warning = false
        var text = ""
        let decoded = [UInt8](unsafeUninitializedCapacity: count) { dst, initialized in
            status = tjDecompress2(handle, base, size, dst.baseAddress, w, 0, h, format, flags)
            if status != 0 {
                warning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
                text = message()
            }
            // TurboJPEG fills the whole buffer even on a warning (missing data becomes grey);
            // on a fatal error the array is dropped below, so its contents never escape.
            initialized = count
        }
        if status != 0 {
            // Warnings are recoverable damage (libjpeg substitutes data). Pillow ignores them
            // too, except running out of data, which it reports as "image file is truncated".
            let error = failure(text, bytes)
            if !warning { throw error }
            if case .truncated = error { throw error }
        }
        let rgb = cmyk ? Self.cmykToRGB(decoded, pixels: width * height) : decoded
        return RGBImage(width: width, height: height, pixels: rgb).applying(orientation)
    }

    /// Pillow's `CMYK;I` unpacking (JPEG CMYK is stored Adobe-inverted; Pillow assumes so for
    /// every 4-component JPEG) followed by its `cmyk2rgb`:
    /// `out = CLIP8(nk - MULDIV255(c, nk))` with `nk = 255 - k` on the un-inverted values.
    static func cmykToRGB(_ raw: [UInt8], pixels: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: pixels * 3) { dst, initialized in
            raw.withUnsafeBufferPointer { src in
                for p in 0..<pixels {
                    let nk = Int(src[p * 4 + 3])  // 255 - (255 - raw k)
                    for c in 0..<3 {
                        let v = 255 - Int(src[p * 4 + c])
                        let t = v * nk + 128
                        let muldiv = ((t >> 8) + t) >> 8
                        dst[p * 3 + c] = UInt8(clamping: nk - muldiv)
                    }
                }
            }
            initialized = pixels * 3
        }
    }
}
