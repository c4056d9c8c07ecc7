/// Appends little-endian fields to a byte array (file headers and log records).
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func f32s(_ v: [Float]) { v.withUnsafeBytes { bytes.append(contentsOf: $0) } }
    mutating func raw(_ v: UnsafeRawBufferPointer) { bytes.append(contentsOf: v) }
    mutating func raw(_ v: [UInt8]) { bytes.append(contentsOf: v) }
    /// A length-prefixed (u32) byte string.
    mutating func blob(_ v: some Swift.Collection<UInt8>) {
        u32(UInt32(v.count))
        bytes.append(contentsOf: v)
    }
    mutating func pad(to size: Int) {
        if bytes.count < size { bytes.append(contentsOf: repeatElement(0, count: size - bytes.count)) }
    }
    /// Overwrites 4 bytes at `offset`.
    mutating func patch32(_ v: UInt32, at offset: Int) {
        withUnsafeBytes(of: v.littleEndian) { for i in 0..<4 { bytes[offset + i] = $0[i] } }
    }
}

/// Reads little-endian fields from bytes, returning nil past the end (never trapping), so a
/// damaged file turns into a clear error instead of a crash.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func u8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }
    mutating func u16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
    mutating func u32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
    mutating func u64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
    /// `count` raw bytes as a slice of the underlying buffer.
    mutating func raw(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }
    /// A u32-length-prefixed byte string, refusing lengths above `limit`.
    mutating func blob(limit: Int) -> UnsafeRawBufferPointer? {
        guard let n = u32(), Int(n) <= limit else { return nil }
        return raw(Int(n))
    }
}

/// `Array.withUnsafeBytes` with a typed error (the standard one rethrows `any Error`).
@inline(__always)
func withBytes<Element, T, E: Error>(of array: [Element], _ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
    try array.withUnsafeBytes { raw in Result { () throws(E) in try body(raw) } }.get()
}

/// `Array.withUnsafeMutableBytes` with a typed error.
@inline(__always)
func withMutableBytes<T, E: Error>(of array: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(E) -> T) throws(E) -> T {
    try array.withUnsafeMutableBytes { raw in Result { () throws(E) in try body(raw) } }.get()
}
