/// Standard base64 (RFC 4648 §4, with padding): OpenAI's `encoding_format: "base64"`.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: UnsafeRawBufferPointer, to out: inout String) {
        var text = [UInt8]()
        text.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            text += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)], alphabet[Int(v & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            text += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], 61, 61]
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            text += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)], 61]
        }
        out += String(decoding: text, as: UTF8.self)
    }

    /// The little-endian float32 bytes of `values`, base64-encoded (what OpenAI's Python client
    /// decodes with `np.frombuffer(base64.b64decode(s), dtype="float32")`).
    static func encodeFloats(_ values: [Float], to out: inout String) {
        var le = values.map { $0.bitPattern.littleEndian }
        le.withUnsafeMutableBytes { encode(UnsafeRawBufferPointer($0), to: &out) }
    }
}
