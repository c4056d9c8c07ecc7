/// Splits a complete head (as `HTTPHeadScanner` delimits it) into its start line and fields.
enum HTTPHeadParser {
    /// The start line's bytes and the validated header fields of `head` (which ends in CRLF CRLF).
    static func split(_ head: UnsafeRawBufferPointer.SubSequence, limits: HTTPLimits)
        throws(HTTPError) -> (startLine: UnsafeRawBufferPointer.SubSequence, headers: HTTPHeaders) {
        var lines: [UnsafeRawBufferPointer.SubSequence] = []
        var lineStart = head.startIndex
        var i = head.startIndex
        while i < head.endIndex {
            if head[i] == HTTPSyntax.lf {
                // The scanner has checked that every LF follows a CR.
                lines.append(head[lineStart..<(i - 1)])
                lineStart = i + 1
            }
            i += 1
        }
        // The last line is the empty one that ends the head.
        guard lines.count >= 2, let startLine = lines.first, !startLine.isEmpty else {
            throw .malformedStartLine("the head has no start line")
        }
        let fieldLines = lines[1..<(lines.count - 1)]
        guard fieldLines.count <= limits.maxHeaderCount else { throw .tooManyHeaders(limit: limits.maxHeaderCount) }
        var headers = HTTPHeaders()
        for line in fieldLines {
            let (name, value) = try field(line)
            headers.append(name, value)
        }
        return (startLine, headers)
    }

    /// One `name: value` line (RFC 9112 §5): a token name, a colon with no space before it,
    /// a value of visible characters, spaces and tabs.
    static func field(_ line: UnsafeRawBufferPointer.SubSequence) throws(HTTPError) -> (String, String) {
        guard let first = line.first else { throw .malformedHeader("an empty line") }
        if first == HTTPSyntax.sp || first == HTTPSyntax.htab {
            throw .malformedHeader("obsolete line folding (a line starting with whitespace)")
        }
        guard let colon = line.firstIndex(of: HTTPSyntax.colon) else {
            throw .malformedHeader("\"\(HTTPSyntax.describe(line))\" has no colon")
        }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty else { throw .malformedHeader("a field with an empty name") }
        for b in name where !HTTPSyntax.isToken(b) {
            if b == HTTPSyntax.sp || b == HTTPSyntax.htab {
                throw .malformedHeader("whitespace between the name \"\(HTTPSyntax.describe(name))\" and the colon")
            }
            throw .malformedHeader("the name \"\(HTTPSyntax.describe(name))\" has a character not allowed in a field name")
        }
        var v = line[(colon + 1)...]
        while let f = v.first, f == HTTPSyntax.sp || f == HTTPSyntax.htab { v = v.dropFirst() }
        while let l = v.last, l == HTTPSyntax.sp || l == HTTPSyntax.htab { v = v.dropLast() }
        for b in v where !HTTPSyntax.isFieldValueByte(b) {
            throw .malformedHeader("the value of \(String(decoding: name, as: UTF8.self)) has a control byte")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: v, as: UTF8.self))
    }

    /// `HTTP/1.0` or `HTTP/1.1`; another well-formed `HTTP/d.d` is unsupported, anything else malformed.
    static func version(_ bytes: UnsafeRawBufferPointer.SubSequence) throws(HTTPError) -> HTTPVersion {
        let text = String(decoding: bytes, as: UTF8.self)
        let u = Array(bytes)
        guard u.count == 8, text.hasPrefix("HTTP/"), HTTPSyntax.isDigit(u[5]), u[6] == UInt8(ascii: "."), HTTPSyntax.isDigit(u[7]) else {
            throw .malformedStartLine("\"\(HTTPSyntax.describe(bytes))\" is not an HTTP version")
        }
        let version = HTTPVersion(major: Int(u[5] - 48), minor: Int(u[7] - 48))
        guard version == .http10 || version == .http11 else { throw .unsupportedVersion(text) }
        return version
    }
}
