/// How a message's body is delimited (RFC 9112 §6.3).
public enum HTTPBodyFraming: Sendable, Equatable {
    /// Exactly this many bytes (0 for a request without Content-Length or Transfer-Encoding).
    case length(Int)
    /// `Transfer-Encoding: chunked`; decode with `HTTPBodyDecoder`.
    case chunked
    /// A response without length that ends when the server closes the connection.
    case untilClose

    /// Whether the message has no body bytes to read at all.
    public var isEmpty: Bool { self == .length(0) }

    /// The framing of a message with these headers, refusing every ambiguity a proxy and a
    /// server could read differently (request smuggling): Transfer-Encoding together with
    /// Content-Length, Content-Length fields that disagree, a coding other than `chunked`,
    /// Transfer-Encoding in HTTP/1.0.
    /// - Parameter isRequest: a request without either field has no body; a response reads until close.
    static func of(headers: HTTPHeaders, version: HTTPVersion, isRequest: Bool, limits: HTTPLimits) throws(HTTPError) -> HTTPBodyFraming {
        let transferEncodings = headers.values("Transfer-Encoding")
        let contentLengths = headers.values("Content-Length")
        if !transferEncodings.isEmpty {
            if version == .http10 { throw .transferEncodingInHTTP10 }
            if !contentLengths.isEmpty { throw .conflictingFraming }
            let codings = headers.tokens("Transfer-Encoding")
            if codings == ["chunked"] { return .chunked }
            // A response may use other codings before chunked; we decode none of them.
            if !isRequest, codings.last != "chunked" { return .untilClose }
            throw .unsupportedTransferEncoding(codings.joined(separator: ", "))
        }
        guard !contentLengths.isEmpty else { return isRequest ? .length(0) : .untilClose }
        var length: Int? = nil
        // "Content-Length: 5, 5" and two "Content-Length: 5" fields are the same (RFC 9110 §8.6);
        // any disagreement is refused.
        for field in contentLengths {
            for item in field.split(separator: ",", omittingEmptySubsequences: false) {
                let text = HTTPSyntax.trim(item)
                guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy(HTTPSyntax.isDigit), let value = Int(text) else {
                    throw .invalidContentLength("\"\(field)\" is not a decimal number of bytes")
                }
                if let length, length != value { throw .invalidContentLength("the message has two different lengths, \(length) and \(value)") }
                length = value
            }
        }
        let value = length ?? 0
        if value > limits.maxBodyBytes { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
        return .length(value)
    }
}
