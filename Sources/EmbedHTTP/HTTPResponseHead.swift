/// A parsed or to-be-sent HTTP/1.x response head.
public struct HTTPResponseHead: Sendable, Equatable {
    public var version: HTTPVersion
    /// The three-digit status code.
    public var status: Int
    /// The reason phrase (informational only; may be empty).
    public var reason: String
    public var headers: HTTPHeaders

    public init(status: Int, reason: String? = nil, version: HTTPVersion = .http11, headers: HTTPHeaders = HTTPHeaders()) {
        self.version = version
        self.status = status
        self.reason = reason ?? HTTPStatus.reasonPhrase(status)
        self.headers = headers
    }

    /// Whether the server keeps the connection open after this response.
    public var keepAlive: Bool { HTTPKeepAlive.isPersistent(version: version, headers: headers) }

    /// How this response's body is delimited: none for 1xx, 204 and 304 and for the answer to a
    /// HEAD request; otherwise chunked, Content-Length, or until the server closes.
    public func framing(requestMethod: String, limits: HTTPLimits = HTTPLimits()) throws(HTTPError) -> HTTPBodyFraming {
        if requestMethod == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 { return .length(0) }
        return try HTTPBodyFraming.of(headers: headers, version: version, isRequest: false, limits: limits)
    }

    /// Parses a response head at the start of `buffer` (what a client reads).
    /// - Returns: the head and how many bytes it took, or nil when more bytes are needed.
    public static func parse(_ buffer: UnsafeRawBufferPointer, limits: HTTPLimits = HTTPLimits()) throws(HTTPError) -> (head: HTTPResponseHead, length: Int)? {
        var scanner = HTTPHeadScanner(maxHeadBytes: limits.maxHeadBytes)
        guard let range = try scanner.scan(buffer) else { return nil }
        return (try parse(head: buffer[range], limits: limits), range.upperBound)
    }

    /// `parse` on an array's bytes.
    public static func parse(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) throws(HTTPError) -> (head: HTTPResponseHead, length: Int)? {
        try bytes.withUnsafeBytes { raw in Result { () throws(HTTPError) in try parse(raw, limits: limits) } }.get()
    }

    /// Parses a complete head, as delimited by `HTTPHeadScanner`.
    public static func parse(head: UnsafeRawBufferPointer.SubSequence, limits: HTTPLimits) throws(HTTPError) -> HTTPResponseHead {
        let (line, headers) = try HTTPHeadParser.split(head, limits: limits)
        // HTTP-version SP 3DIGIT SP [reason-phrase]; a missing final SP is tolerated.
        guard let sp1 = line.firstIndex(of: HTTPSyntax.sp) else { throw .malformedStartLine("\"\(HTTPSyntax.describe(line))\" is not a status line") }
        let version = try HTTPHeadParser.version(line[line.startIndex..<sp1])
        let rest = line[(sp1 + 1)...]
        let code = rest.prefix(3)
        guard code.count == 3, code.allSatisfy(HTTPSyntax.isDigit), rest.count == 3 || rest[rest.startIndex + 3] == HTTPSyntax.sp else {
            throw .malformedStartLine("\"\(HTTPSyntax.describe(line))\" has no three-digit status code")
        }
        let status = code.reduce(0) { $0 * 10 + Int($1 - 48) }
        let reason = rest.count > 4 ? String(decoding: rest[(rest.startIndex + 4)...], as: UTF8.self) : ""
        return HTTPResponseHead(status: status, reason: reason, version: version, headers: headers)
    }

    /// Appends the head's bytes to `out`.
    public func serialize(into out: inout [UInt8]) {
        out.append(contentsOf: version.description.utf8)
        out.append(HTTPSyntax.sp)
        out.append(contentsOf: String(status).utf8)
        out.append(HTTPSyntax.sp)
        out.append(contentsOf: reason.utf8.filter { $0 != HTTPSyntax.cr && $0 != HTTPSyntax.lf })
        HTTPHeadWriter.finish(headers, into: &out)
    }

    /// A complete response: this head with `Content-Length: body.count`, then the body
    /// (1xx, 204 and 304 get neither).
    public func serialized(body: [UInt8] = []) -> [UInt8] {
        var head = self
        let bodiless = (100..<200).contains(status) || status == 204 || status == 304
        if !bodiless { head.headers.set("Content-Length", String(body.count)) }
        var out: [UInt8] = []
        out.reserveCapacity(160 + body.count)
        head.serialize(into: &out)
        if !bodiless { out.append(contentsOf: body) }
        return out
    }
}
