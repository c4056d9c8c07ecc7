/// Bounds-checked reads over untrusted bytes: every accessor returns nil past the end instead
/// of reading out of bounds (`UnsafeRawBufferPointer`'s subscript checks bounds in debug builds
/// only). The container parsers (JPEG markers, PNG chunks, TIFF/Exif) read through it.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer

    var count: Int { bytes.count }

    func u8(_ i: Int) -> UInt8? {
        i >= 0 && i < bytes.count ? bytes[i] : nil
    }

    func u16(_ i: Int, bigEndian: Bool) -> UInt16? {
        guard let a = u8(i), let b = u8(i + 1) else { return nil }
        return bigEndian ? UInt16(a) << 8 | UInt16(b) : UInt16(b) << 8 | UInt16(a)
    }

    func u32(_ i: Int, bigEndian: Bool) -> UInt32? {
        guard let a = u16(i, bigEndian: bigEndian), let b = u16(i + 2, bigEndian: bigEndian) else { return nil }
        return bigEndian ? UInt32(a) << 16 | UInt32(b) : UInt32(b) << 16 | UInt32(a)
    }

    /// `count` bytes from `start`, or nil when the range is not inside the buffer.
    func slice(_ start: Int, _ count: Int) -> UnsafeRawBufferPointer? {
        guard start >= 0, count >= 0, start <= bytes.count, count <= bytes.count - start else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + count)])
    }

    /// Whether the bytes at `start` equal `literal`.
    func matches(_ literal: [UInt8], at start: Int) -> Bool {
        guard let s = slice(start, literal.count) else { return false }
        return s.elementsEqual(literal)
    }
}
