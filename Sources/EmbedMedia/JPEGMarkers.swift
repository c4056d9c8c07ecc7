/// Reads the metadata segments before the first scan of a JPEG as Pillow's JPEG plugin does:
/// every APP1 `Exif\0\0` segment (the first whole, later ones appended without their header)
/// and the last APP1 XMP packet (`http://ns.adobe.com/xap/1.0/\0`).
enum JPEGMarkers {
    static func orientation(_ bytes: UnsafeRawBufferPointer) -> Orientation {
        let r = ByteReader(bytes: bytes)
        let exifID: [UInt8] = Array("Exif".utf8) + [0, 0]
        let xmpID: [UInt8] = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0]
        var exif: [UInt8]? = nil
        var xmp: UnsafeRawBufferPointer? = nil
        var i = 2  // after SOI
        while let b = r.u8(i) {
            guard b == 0xFF else { i += 1; continue }  // junk between segments
            guard let m = r.u8(i + 1) else { break }
            switch m {
            case 0xFF: i += 1  // fill byte
            case 0x00, 0x01, 0xD0...0xD9: i += 2  // stuffed byte, TEM, RSTn, SOI, EOI: no length
            case 0xDA: i = r.count  // start of scan: metadata ends here
            default:
                guard let len = r.u16(i + 2, bigEndian: true), len >= 2 else { i = r.count; break }
                let body = i + 4, n = Int(len) - 2
                if m == 0xE1, let seg = r.slice(body, n) {
                    let s = ByteReader(bytes: seg)
                    if s.matches(exifID, at: 0) {
                        if exif == nil { exif = Array(seg) } else { exif! += seg.dropFirst(6) }
                    } else if s.matches(xmpID, at: 0), let packet = s.slice(xmpID.count, n - xmpID.count) {
                        xmp = packet
                    }
                }
                i = body + n
            }
        }
        guard let exif else { return ExifOrientation.resolve(exif: nil, xmp: xmp) }
        return exif.withUnsafeBytes { ExifOrientation.resolve(exif: $0, xmp: xmp) }
    }
}
