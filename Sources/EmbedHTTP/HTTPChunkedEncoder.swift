/// Writes a body in chunked transfer coding (RFC 9112 §7.1), for a sender that does not know
/// the length up front.
public enum HTTPChunkedEncoder {
    /// One chunk holding `bytes` (nothing for an empty array: an empty chunk would end the body).
    public static func chunk(_ bytes: [UInt8], into out: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        out.append(contentsOf: String(bytes.count, radix: 16).utf8)
        out.append(contentsOf: [HTTPSyntax.cr, HTTPSyntax.lf])
        out.append(contentsOf: bytes)
        out.append(contentsOf: [HTTPSyntax.cr, HTTPSyntax.lf])
    }

    /// The last chunk and the empty trailer that end a chunked body.
    public static let end: [UInt8] = Array("0\r\n\r\n".utf8)
}
