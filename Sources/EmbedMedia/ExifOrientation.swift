/// Finds the orientation the way Pillow's `Image.getexif()` + `ImageOps.exif_transpose` do:
/// tag 0x0112 of the Exif block's first IFD; only when that tag is absent, the first
/// `tiff:Orientation="N"` (or `>N`) in the XMP packet. Malformed Exif, where Pillow would raise,
/// counts as "no orientation": an image with a damaged metadata block still decodes, upright as
/// stored.
enum ExifOrientation {
    /// The orientation to apply: `.up` when there is none or its value is not 1–8.
    static func resolve(exif: UnsafeRawBufferPointer?, xmp: UnsafeRawBufferPointer?) -> Orientation {
        if let exif, let value = tagValue(exif: exif) {
            return Orientation(rawValue: value) ?? .up
        }
        if let xmp, let value = xmpValue(xmp) {
            return Orientation(rawValue: value) ?? .up
        }
        return .up
    }

    /// The Orientation tag's value in an Exif payload (optionally prefixed by "Exif\0\0", then a
    /// TIFF header and IFD0), nil when the tag is absent or the block unreadable. A tag present
    /// with an unusable type or count gives 0 (Pillow has the tag then, so it skips XMP, and its
    /// value matches no transpose).
    static func tagValue(exif: UnsafeRawBufferPointer) -> Int? {
        var r = ByteReader(bytes: exif)
        let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]
        while r.matches(exifHeader, at: 0), let rest = r.slice(6, r.count - 6) { r = ByteReader(bytes: rest) }
        guard let b0 = r.u8(0), let b1 = r.u8(1), b0 == b1, b0 == 0x49 || b0 == 0x4D,
              let magic = r.u16(2, bigEndian: true), magic == 0x2A00 || magic == 0x002A else { return nil }
        let be = b0 == 0x4D
        guard let ifd = r.u32(4, bigEndian: be), let entries = r.u16(Int(ifd), bigEndian: be) else { return nil }
        var found: Int?
        for k in 0..<Int(entries) {
            let e = Int(ifd) + 2 + 12 * k
            guard let tag = r.u16(e, bigEndian: be), let type = r.u16(e + 2, bigEndian: be),
                  let count = r.u32(e + 4, bigEndian: be) else { break }  // Pillow keeps what it read
            guard tag == 0x0112 else { continue }
            guard count == 1 else { found = 0; continue }
            switch type {
            case 1: found = r.u8(e + 8).map { Int($0) }  // BYTE
            case 3: found = r.u16(e + 8, bigEndian: be).map { Int($0) }  // SHORT
            case 4: found = r.u32(e + 8, bigEndian: be).map { Int($0) }  // LONG
            case 6: found = r.u8(e + 8).map { Int(Int8(bitPattern: $0)) }  // SBYTE
            case 8: found = r.u16(e + 8, bigEndian: be).map { Int(Int16(bitPattern: $0)) }  // SSHORT
            case 9: found = r.u32(e + 8, bigEndian: be).map { Int(Int32(bitPattern: $0)) }  // SLONG
            default: found = 0
            }
        }
        return found
    }

    /// The digit of the first match of Pillow's pattern `tiff:Orientation(="|>)([0-9])`.
    static func xmpValue(_ xmp: UnsafeRawBufferPointer) -> Int? {
        let r = ByteReader(bytes: xmp)
        let key = Array("tiff:Orientation".utf8)
        var i = 0
        while i + key.count < r.count {
            if r.matches(key, at: i) {
                let j = i + key.count
                if r.u8(j) == 0x3D, r.u8(j + 1) == 0x22, let d = r.u8(j + 2), (0x30...0x39).contains(d) {
                    return Int(d - 0x30)
                }
                if r.u8(j) == 0x3E, let d = r.u8(j + 1), (0x30...0x39).contains(d) {
                    return Int(d - 0x30)
                }
            }
            i += 1
        }
        return nil
    }
}
