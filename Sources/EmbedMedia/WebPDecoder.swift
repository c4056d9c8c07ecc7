import CWebP

/// Decodes WebP the way Pillow's WebP plugin does, which runs every file through libwebp's
/// `WebPAnimDecoder` in RGBA mode: the first frame composited on a transparent black canvas,
/// alpha then dropped by `convert("RGB")`. Still images take the simple API straight into RGB
/// (identical samples: libwebp's RGB and RGBA outputs share one YUV→RGB conversion with fancy
/// upsampling, and non-premultiplied RGBA leaves colour untouched); animations take the
/// demux API's `WebPAnimDecoder`, first frame only. EXIF and XMP chunks give the orientation.
enum WebPDecoder {
    static func decode(_ bytes: UnsafeRawBufferPointer, limits: ImageLimits) throws(MediaError) -> RGBImage {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { throw .emptyInput }
        var features = WebPBitstreamFeatures()
        let status = WebPGetFeatures(base, bytes.count, &features)
        guard status == VP8_STATUS_OK else { throw failure(status, "reading the header") }
        try limits.check(width: Int(features.width), height: Int(features.height), format: .webp)

        let demuxer = try WebPDemuxer(base, bytes.count)
        let orientation = demuxer.orientation()
        let image: RGBImage
        if demuxer.flags & UInt32(ANIMATION_FLAG.rawValue) != 0 {
            image = try firstFrame(demuxer, limits: limits)
        } else {
            image = try still(base, bytes.count, width: Int(features.width), height: Int(features.height))
        }
        return image.applying(orientation)
    }

    static func failure(_ status: VP8StatusCode, _ doing: String) -> MediaError {
        switch status {
        case VP8_STATUS_NOT_ENOUGH_DATA: return .truncated(.webp, detail: "libwebp: not enough data (\(doing))")
        case VP8_STATUS_UNSUPPORTED_FEATURE: return .unsupported(.webp, detail: "libwebp: unsupported feature (\(doing))")
        case VP8_STATUS_BITSTREAM_ERROR: return .corrupt(.webp, detail: "libwebp: bitstream error (\(doing))")
        case VP8_STATUS_OUT_OF_MEMORY: return .corrupt(.webp, detail: "libwebp: out of memory (\(doing))")
        default: return .corrupt(.webp, detail: "libwebp: status \(status.rawValue) (\(doing))")
        }
    }

    /// The simple API, decoding RGB directly into the result's storage.
    static func still(_ base: UnsafePointer<UInt8>, _ size: Int, width: Int, height: Int) throws(MediaError) -> RGBImage {
        var config = WebPDecoderConfig()
        guard WebPInitDecoderConfig(&config) != 0 else {
            throw .corrupt(.webp, detail: "libwebp: incompatible decoder version")
        }
        let count = width * height * 3  // ≤ 3 × maxPixels: checked by the caller
        var status = VP8_STATUS_OK
        var decodedWidth: Int32 = 0, decodedHeight: Int32 = 0
        let rgb = [UInt8](unsafeUninitializedCapacity: count) { buf, n in
            config.output.colorspace = MODE_RGB
            config.output.is_external_memory = 1
            config.output.u.RGBA = WebPRGBABuffer(rgba: buf.baseAddress, stride: Int32(width * 3), size: count)
            status = WebPDecode(base, size, &config)
            decodedWidth = config.output.width
            decodedHeight = config.output.height
            WebPFreeDecBuffer(&config.output)  // external memory: frees nothing of ours
            n = status == VP8_STATUS_OK ? count : 0
        }
        guard status == VP8_STATUS_OK else { throw failure(status, "decoding the image") }
        guard Int(decodedWidth) == width, Int(decodedHeight) == height else {
            throw .corrupt(.webp, detail: "decoded \(decodedWidth)×\(decodedHeight), header said \(width)×\(height)")
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    /// The first frame of an animation on its canvas, as `WebPAnimDecoder` composes it.
    static func firstFrame(_ demuxer: borrowing WebPDemuxer, limits: ImageLimits) throws(MediaError) -> RGBImage {
        let width = Int(demuxer.canvasWidth), height = Int(demuxer.canvasHeight)
        try limits.check(width: width, height: height, format: .webp)
        var options = WebPAnimDecoderOptions()
        guard WebPAnimDecoderOptionsInit(&options) != 0 else {
            throw .corrupt(.webp, detail: "libwebp: incompatible animation decoder version")
        }
        options.color_mode = MODE_RGBA  // Pillow's choice (non-premultiplied)
        options.use_threads = 0
        var data = demuxer.data
        guard let decoder = WebPAnimDecoderNew(&data, &options) else {
            throw .corrupt(.webp, detail: "libwebp: the animation could not be opened")
        }
        defer { WebPAnimDecoderDelete(decoder) }
        var canvas: UnsafeMutablePointer<UInt8>? = nil
        var timestamp: Int32 = 0
        guard WebPAnimDecoderGetNext(decoder, &canvas, &timestamp) != 0, let canvas else {
            throw .corrupt(.webp, detail: "libwebp: the first frame could not be decoded")
        }
        let pixels = width * height
        let rgb = [UInt8](unsafeUninitializedCapacity: pixels * 3) { out, n in
            for p in 0..<pixels {
                out[3 * p] = canvas[4 * p]; out[3 * p + 1] = canvas[4 * p + 1]; out[3 * p + 2] = canvas[4 * p + 2]
            }
            n = pixels * 3
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }
}

/// Owns a `WebPDemuxer` over borrowed bytes (the caller keeps them alive for its lifetime).
/// Built only from a completely parsed file: WebPAnimDecoder, which Pillow uses, refuses
/// partial ones too.
struct WebPDemuxer: ~Copyable {
    let data: WebPData
    private let demuxer: OpaquePointer

    init(_ base: UnsafePointer<UInt8>, _ size: Int) throws(MediaError) {
        data = WebPData(bytes: base, size: size)
        var d = data
        var state = WEBP_DEMUX_PARSING_HEADER
        guard let dmux = WebPDemuxPartial(&d, &state) else {
            throw state == WEBP_DEMUX_PARSE_ERROR
                ? .corrupt(.webp, detail: "libwebp: the RIFF container is malformed")
                : .truncated(.webp, detail: "libwebp: the data ends inside the container header")
        }
        guard state == WEBP_DEMUX_DONE else {
            WebPDemuxDelete(dmux)
            throw .truncated(.webp, detail: "libwebp: the data ends before the last chunk")
        }
        demuxer = dmux
    }

    deinit { WebPDemuxDelete(demuxer) }

    var flags: UInt32 { WebPDemuxGetI(demuxer, WEBP_FF_FORMAT_FLAGS) }
    var canvasWidth: UInt32 { WebPDemuxGetI(demuxer, WEBP_FF_CANVAS_WIDTH) }
    var canvasHeight: UInt32 { WebPDemuxGetI(demuxer, WEBP_FF_CANVAS_HEIGHT) }

    /// The first chunk with this FourCC (pointing into the borrowed bytes), if any.
    private func chunk(_ fourCC: String) -> UnsafeRawBufferPointer? {
        var iterator = WebPChunkIterator()
        defer { WebPDemuxReleaseChunkIterator(&iterator) }
        guard WebPDemuxGetChunk(demuxer, fourCC, 1, &iterator) != 0, let bytes = iterator.chunk.bytes else { return nil }
        return UnsafeRawBufferPointer(start: bytes, count: iterator.chunk.size)
    }

    func orientation() -> Orientation {
        ExifOrientation.resolve(exif: chunk("EXIF"), xmp: chunk("XMP "))
    }
}
