/// A parsed or to-be-sent HTTP/1.x request head.
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token, case-sensitive as RFC 9110 says ("GET", "POST").
    public var method: String
    /// The request target as sent (origin-form `/v1/embeddings?x=1`, absolute-form or `*`).
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// How the body is delimited; filled in by `parse`, `.length(0)` for a head built by hand
    /// (serialisation writes the headers as given).
    public var framing: HTTPBodyFraming

    public init(method: String, target: String, version: HTTPVersion = .http11, headers: HTTPHeaders = HTTPHeaders(),
                framing: HTTPBodyFraming = .length(0)) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.framing = framing
    }

    /// The target's path: no query, and for absolute-form (`http://host/p`) no scheme and authority.
    public var path: String {
        var t = Substring(target)
        if !t.hasPrefix("/"), let colon = t.firstIndex(of: ":"), t[colon...].hasPrefix("://") {
            t = t[t.index(colon, offsetBy: 3)...]
            t = t.firstIndex(of: "/").map { t[$0...] } ?? "/"
        }
        if let q = t.firstIndex(where: { $0 == "?" || $0 == "#" }) { t = t[..<q] }
        return String(t)
    }

    /// The query after `?`, or nil.
    public var query: String? {
        guard let q = target.firstIndex(of: "?") else { return nil }
        return String(target[target.index(after: q)...])
    }

    /// Whether the client wants the connection kept open after the response.
    public var keepAlive: Bool { HTTPKeepAlive.isPersistent(version: version, headers: headers) }

    /// Whether the client waits for `100 Continue` before it sends the body (`Expect: 100-continue`,
    /// curl's habit for bodies over 1 KiB).
    public var expectsContinue: Bool {
        version == .http11 && headers.tokens("Expect").contains("100-continue")
    }

    /// Parses a request head at the start of `buffer`.
    /// - Returns: the head and how many bytes it took (leading empty lines included), or nil
    ///   when `buffer` does not yet hold the whole head.
    /// - Throws: `HTTPError` for a malformed or over-limit head, or a body framing that could
    ///   be read two ways (see `HTTPBodyFraming`).
    public static func parse(_ buffer: UnsafeRawBufferPointer, limits: HTTPLimits = HTTPLimits()) throws(HTTPError) -> (head: HTTPRequestHead, length: Int)? {
        var scanner = HTTPHeadScanner(maxHeadBytes: limits.maxHeadBytes)
        guard let range = try scanner.scan(buffer) else { return nil }
        return (try parse(head: buffer[range], limits: limits), range.upperBound)
    }

    /// `parse` on an array's bytes.
    public static func parse(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) throws(HTTPError) -> (head: HTTPRequestHead, length: Int)? {
        try bytes.withUnsafeBytes { raw in Result { () throws(HTTPError) in try parse(raw, limits: limits) } }.get()
    }

    /// Parses a complete head, as delimited by `HTTPHeadScanner` (start line through the blank line).
    public static func parse(head: UnsafeRawBufferPointer.SubSequence, limits: HTTPLimits) throws(HTTPError) -> HTTPRequestHead {
        let (line, headers) = try HTTPHeadParser.split(head, limits: limits)
        // method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
        guard let sp1 = line.firstIndex(of: HTTPSyntax.sp) else { throw .malformedStartLine("\"\(HTTPSyntax.describe(line))\" has no spaces") }
        let method = line[line.startIndex..<sp1]
        guard !method.isEmpty, method.allSatisfy(HTTPSyntax.isToken) else {
            throw .malformedStartLine("\"\(HTTPSyntax.describe(method))\" is not a method")
        }
        let rest = line[(sp1 + 1)...]
        guard let sp2 = rest.firstIndex(of: HTTPSyntax.sp) else { throw .malformedStartLine("no HTTP version after the target") }
        let target = rest[rest.startIndex..<sp2]
        guard !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .malformedStartLine("the target \"\(HTTPSyntax.describe(target))\" is empty or has a byte not allowed in a URI")
        }
        let version = try HTTPHeadParser.version(line[(sp2 + 1)...])
        if version == .http11 && headers.values("Host").count != 1 { throw .missingHost }
        let framing = try HTTPBodyFraming.of(headers: headers, version: version, isRequest: true, limits: limits)
        return HTTPRequestHead(method: String(decoding: method, as: UTF8.self), target: String(decoding: target, as: UTF8.self),
                               version: version, headers: headers, framing: framing)
    }

    /// Appends the head's bytes (start line, fields, blank line) to `out`. The caller puts
    /// Host and Content-Length (or Transfer-Encoding) in `headers`.
    public func serialize(into out: inout [UInt8]) {
        out.append(contentsOf: method.utf8)
        out.append(HTTPSyntax.sp)
        out.append(contentsOf: target.utf8)
        out.append(HTTPSyntax.sp)
        out.append(contentsOf: version.description.utf8)
        HTTPHeadWriter.finish(headers, into: &out)
    }

    /// A complete request: this head with `Content-Length` set to `body.count` (unless the body
    /// is empty and the method is GET or HEAD), then the body.
    public func serialized(body: [UInt8] = []) -> [UInt8] {
        var head = self
        if !body.isEmpty || (method != "GET" && method != "HEAD") { head.headers.set("Content-Length", String(body.count)) }
        var out: [UInt8] = []
        out.reserveCapacity(256 + body.count)
        head.serialize(into: &out)
        out.append(contentsOf: body)
        return out
    }
}

/// Writes header fields and the blank line that ends a head.
enum HTTPHeadWriter {
    static func finish(_ headers: HTTPHeaders, into out: inout [UInt8]) {
        out.append(HTTPSyntax.cr); out.append(HTTPSyntax.lf)
        for (name, value) in headers {
            out.append(contentsOf: name.utf8)
            out.append(HTTPSyntax.colon); out.append(HTTPSyntax.sp)
            // A value with CR or LF would let a caller's string inject fields: drop those bytes.
            for b in value.utf8 where b != HTTPSyntax.cr && b != HTTPSyntax.lf { out.append(b) }
            out.append(HTTPSyntax.cr); out.append(HTTPSyntax.lf)
        }
        out.append(HTTPSyntax.cr); out.append(HTTPSyntax.lf)
    }
}
