/// Text that arrives as bytes: a `text/*` media input or passed file, decoded by the charset
/// its media type names, so a text model gets it as text on every path (the Python client's
/// `Path("notes.txt")`, `embedctl embed --file notes.txt --mime text/plain`, a passed file).
enum TextContent {
    /// Whether `mimeType` names text (`text/plain`, `text/markdown; charset=utf-8`, …).
    static func isText(_ mimeType: String) -> Bool {
        mimeType.lowercased().trimmingLeadingSpaces().hasPrefix("text/")
    }

    /// Decodes `bytes` by the `charset` parameter of `mimeType`: UTF-8 when none is given (as
    /// RFC 6657 recommends for new text types), US-ASCII, ISO-8859-1 (latin1, and windows-1252
    /// read as latin1 is not offered: its 0x80–0x9F differ), UTF-16 (with or without a byte-order
    /// mark; none means big-endian), UTF-16LE, UTF-16BE. A leading UTF-8 byte-order mark is
    /// dropped.
    /// - Throws: INVALID_ARGUMENT naming `what` for bytes that are not valid in the charset, or a
    ///   charset not in that list.
    static func decode(_ bytes: [UInt8], mimeType: String, what: String) throws(RPCError) -> String {
        let charset = parameter("charset", of: mimeType)?.lowercased() ?? "utf-8"
        switch charset {
        case "utf-8", "utf8":
            var body = bytes[...]
            if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
            guard let s = String(validating: body, as: UTF8.self) else {
                throw RPCError(.invalidArgument, "\(what) is not valid UTF-8 text (\(mimeType.isEmpty ? "no media type" : mimeType))")
            }
            return s
        case "us-ascii", "ascii":
            guard bytes.allSatisfy({ $0 < 0x80 }) else {
                throw RPCError(.invalidArgument, "\(what) has bytes over 0x7F but its media type says charset=\(charset)")
            }
            return String(decoding: bytes, as: UTF8.self)
        case "iso-8859-1", "latin1", "latin-1", "iso8859-1", "l1":
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        case "utf-16", "utf-16le", "utf-16be":
            return try utf16(bytes, charset: charset, what: what)
        default:
            throw RPCError(.invalidArgument, "\(what): charset '\(charset)' is not supported (use utf-8, us-ascii, iso-8859-1 or utf-16)")
        }
    }

    private static func utf16(_ bytes: [UInt8], charset: String, what: String) throws(RPCError) -> String {
        guard bytes.count % 2 == 0 else { throw RPCError(.invalidArgument, "\(what): \(bytes.count) bytes cannot be \(charset) text (odd length)") }
        var body = bytes[...]
        var littleEndian = charset == "utf-16le"
        if charset == "utf-16" {
            if body.starts(with: [0xFF, 0xFE]) { littleEndian = true; body = body.dropFirst(2) }
            else if body.starts(with: [0xFE, 0xFF]) { body = body.dropFirst(2) }
        }
        var units: [UInt16] = []
        units.reserveCapacity(body.count / 2)
        var i = body.startIndex
        while i < body.endIndex {
            let a = UInt16(body[i]), b = UInt16(body[i + 1])
            units.append(littleEndian ? a | b << 8 : a << 8 | b)
            i += 2
        }
        guard let s = String(validating: units, as: UTF16.self) else {
            throw RPCError(.invalidArgument, "\(what) is not valid \(charset) text")
        }
        return s
    }

    /// The value of parameter `name` in a media type (`type/sub; name=value`), unquoted.
    static func parameter(_ name: String, of mimeType: String) -> String? {
        for part in mimeType.split(separator: ";").dropFirst() {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingSpaces().lowercased() == name else { continue }
            var v = kv[1].trimmingSpaces()
            if v.count >= 2 && v.hasPrefix("\"") && v.hasSuffix("\"") { v = String(v.dropFirst().dropLast()) }
            return v
        }
        return nil
    }
}

extension StringProtocol {
    fileprivate func trimmingLeadingSpaces() -> String { String(drop { $0 == " " || $0 == "\t" }) }
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
