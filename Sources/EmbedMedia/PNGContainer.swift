/// What EmbedMedia reads from a PNG's chunk structure itself, before and beside libpng: the
/// header (for the limits, before libpng allocates anything), the colour chunks that must be
/// hidden from libpng, and the metadata Pillow reads the orientation from.
///
/// Why hide chunks: Pillow applies no colour management, but libpng's simplified API converts
/// from the file's gamma (gAMA, sRGB, iCCP) to sRGB or linear, and turns tRNS into an alpha
/// channel that it composites or premultiplies. Renaming those chunks to private ancillary
/// names (second letter lower-case, CRC recomputed) makes libpng skip them, so it returns the
/// stored samples, which is what Pillow's `convert("RGB")` starts from (it ignores tRNS too).
struct PNGContainer {
    var width = 0
    var height = 0
    var bitDepth: UInt8 = 0
    var colorType: UInt8 = 0
    /// Offsets of the type fields of the chunks to rename.
    var hidden: [Int] = []
    /// Offset of the IHDR chunk's type field.
    var ihdrType = 12
    /// The last eXIf chunk's data (Pillow keeps the last).
    var exif: Range<Int>?
    /// An uncompressed tEXt "Raw profile type exif" (ImageMagick's hex-encoded Exif).
    var rawProfileExif: Range<Int>?
    /// An uncompressed iTXt "XML:com.adobe.xmp" packet.
    var xmp: Range<Int>?

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Parses the chunk list. Throws only when the header itself is missing or malformed;
    /// damage after it is left for libpng to report in its own words.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(MediaError) -> PNGContainer {
        let r = ByteReader(bytes: bytes)
        var c = PNGContainer()
        guard let len = r.u32(8, bigEndian: true), let data = r.slice(16, 13) else {
            throw .truncated(.png, detail: "the data ends inside the IHDR header (\(bytes.count) bytes)")
        }
        guard r.matches(Array("IHDR".utf8), at: 12), len == 13 else {
            throw .corrupt(.png, detail: "the first chunk is not a 13-byte IHDR header")
        }
        let h = ByteReader(bytes: data)
        c.width = Int(h.u32(0, bigEndian: true)!)
        c.height = Int(h.u32(4, bigEndian: true)!)
        c.bitDepth = h.u8(8)!
        c.colorType = h.u8(9)!

        var i = 8
        while let length = r.u32(i, bigEndian: true), length <= 0x7FFF_FFFF, r.slice(i + 4, 4) != nil {
            let type = i + 4, body = i + 8, n = Int(length)
            // A chunk (with its CRC) running past the end: truncated, libpng reports it.
            guard let chunk = r.slice(body, n), r.slice(body + n, 4) != nil else { break }
            func named(_ name: String) -> Bool { r.matches(Array(name.utf8), at: type) }
            if named("gAMA") || named("sRGB") || named("cHRM") || named("iCCP") || named("tRNS") {
                c.hidden.append(type)
            } else if named("eXIf") {
                c.exif = body..<(body + n)
            } else if named("tEXt") {
                let key = Array("Raw profile type exif".utf8) + [0]
                if ByteReader(bytes: chunk).matches(key, at: 0) {
                    c.rawProfileExif = (body + key.count)..<(body + n)
                }
            } else if named("iTXt") {
                // keyword \0 compression-flag method language \0 translated \0 text
                let key = Array("XML:com.adobe.xmp".utf8) + [0]
                let t = ByteReader(bytes: chunk)
                if t.matches(key, at: 0), t.u8(key.count) == 0 {
                    var j = key.count + 2, nulls = 0
                    while nulls < 2, let b = t.u8(j) { if b == 0 { nulls += 1 }; j += 1 }
                    if nulls == 2 { c.xmp = (body + j)..<(body + n) }
                }
            } else if named("IEND") {
                break
            }
            i = body + n + 4
        }
        return c
    }

    /// The orientation from eXIf, else the raw-profile text, else XMP (Pillow's order).
    func orientation(_ bytes: UnsafeRawBufferPointer) -> Orientation {
        let r = ByteReader(bytes: bytes)
        let xmpBytes = xmp.flatMap { r.slice($0.lowerBound, $0.count) }
        if let exif, let e = r.slice(exif.lowerBound, exif.count) {
            return ExifOrientation.resolve(exif: e, xmp: xmpBytes)
        }
        if let raw = rawProfileExif, let text = r.slice(raw.lowerBound, raw.count) {
            let decoded = Self.rawProfileBytes(text)
            return decoded.withUnsafeBytes { ExifOrientation.resolve(exif: $0, xmp: xmpBytes) }
        }
        return ExifOrientation.resolve(exif: nil, xmp: xmpBytes)
    }

    /// Pillow: `bytes.fromhex("".join(text.split("\n")[3:]))`; malformed hex gives no bytes
    /// (Pillow would raise; we ignore the metadata instead).
    static func rawProfileBytes(_ text: UnsafeRawBufferPointer) -> [UInt8] {
        var lines = 0, out: [UInt8] = [], high: UInt8? = nil
        for b in text {
            if b == 0x0A { lines += 1; continue }
            guard lines >= 3 else { continue }
            let v: UInt8
            switch b {
            case 0x30...0x39: v = b - 0x30
            case 0x61...0x66: v = b - 0x61 + 10
            case 0x41...0x46: v = b - 0x41 + 10
            case 0x20, 0x09, 0x0D: continue  // fromhex skips whitespace between bytes
            default: return []
            }
            if let hi = high { out.append(hi << 4 | v); high = nil } else { high = v }
        }
        return high == nil ? out : []
    }

    /// A copy of `bytes` with the colour chunks renamed, and a 16-bit grey+alpha header
    /// re-declared as 8-bit RGBA (see `PNGDecoder`), CRCs recomputed.
    func rewritten(_ bytes: UnsafeRawBufferPointer, ga16AsRGBA8: Bool) throws(MediaError) -> [UInt8] {
        let r = ByteReader(bytes: bytes)
        if ga16AsRGBA8 {
            // Never turn a damaged header into a valid one: check its CRC before rewriting it.
            guard let stored = r.u32(ihdrType + 4 + 13, bigEndian: true), let typeAndData = r.slice(ihdrType, 17),
                  CRC32.checksum(typeAndData) == stored else {
                throw .corrupt(.png, detail: "IHDR: CRC error")
            }
        }
        var out = Array(bytes)
        func fixCRC(type: Int, length: Int) {
            let crc = CRC32.checksum(out[type..<(type + 4 + length)])
            let at = type + 4 + length
            out[at] = UInt8(crc >> 24); out[at + 1] = UInt8(crc >> 16 & 0xFF)
            out[at + 2] = UInt8(crc >> 8 & 0xFF); out[at + 3] = UInt8(crc & 0xFF)
        }
        for type in hidden {
            out[type + 1] |= 0x20  // second letter lower-case: private, so unknown to libpng
            fixCRC(type: type, length: Int(r.u32(type - 4, bigEndian: true)!))
        }
        if ga16AsRGBA8 {
            out[ihdrType + 4 + 8] = 8
            out[ihdrType + 4 + 9] = 6
            fixCRC(type: ihdrType, length: 13)
        }
        return out
    }
}

/// CRC-32 (ISO 3309, as PNG uses it) for the chunks EmbedMedia rewrites.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
