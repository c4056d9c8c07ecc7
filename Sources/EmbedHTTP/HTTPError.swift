/// Why a peer's HTTP/1.1 bytes were refused. Each case names the problem and the status a
/// server answers with (`status`); a client reading a response treats every case as fatal for
/// the connection.
public enum HTTPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The head grew past `HTTPLimits.maxHeadBytes` without its blank line (431).
    case headTooLarge(limit: Int)
    /// More header fields than `HTTPLimits.maxHeaderCount` (431).
    case tooManyHeaders(limit: Int)
    /// The request or status line is not `METHOD SP target SP HTTP/x.y` / `HTTP/x.y SP code …` (400).
    case malformedStartLine(String)
    /// A header line is not `name: value`, or holds a forbidden byte (400).
    case malformedHeader(String)
    /// A line ended in a bare LF instead of CRLF (400): we never guess where a line ends.
    case bareLineFeed
    /// A version other than HTTP/1.0 or HTTP/1.1 (505).
    case unsupportedVersion(String)
    /// Content-Length is not a decimal number, or two Content-Length fields disagree (400).
    case invalidContentLength(String)
    /// Both Transfer-Encoding and Content-Length: the classic smuggling ambiguity (400).
    case conflictingFraming
    /// A Transfer-Encoding other than exactly `chunked` (501).
    case unsupportedTransferEncoding(String)
    /// Transfer-Encoding in an HTTP/1.0 message, which has no chunked coding (400).
    case transferEncodingInHTTP10
    /// The body is larger than `HTTPLimits.maxBodyBytes` (413).
    case bodyTooLarge(limit: Int)
    /// A chunk-size line, chunk terminator or trailer that breaks RFC 9112 §7.1 (400).
    case malformedChunk(String)
    /// An HTTP/1.1 request without exactly one Host field (400).
    case missingHost
    /// The connection ended in the middle of a message (a client reading a response sees it).
    case truncatedMessage

    /// The response status a server answers this error with.
    public var status: Int {
        switch self {
        case .headTooLarge, .tooManyHeaders: 431
        case .bodyTooLarge: 413
        case .unsupportedVersion: 505
        case .unsupportedTransferEncoding: 501
        default: 400
        }
    }

    public var description: String {
        switch self {
        case .headTooLarge(let limit): "request head larger than \(limit) bytes"
        case .tooManyHeaders(let limit): "more than \(limit) header fields"
        case .malformedStartLine(let why): "malformed start line: \(why)"
        case .malformedHeader(let why): "malformed header field: \(why)"
        case .bareLineFeed: "a line ends in a bare LF (HTTP/1.1 lines end in CRLF)"
        case .unsupportedVersion(let v): "unsupported HTTP version \(v) (HTTP/1.0 and HTTP/1.1 are served)"
        case .invalidContentLength(let why): "invalid Content-Length: \(why)"
        case .conflictingFraming: "both Transfer-Encoding and Content-Length are present"
        case .unsupportedTransferEncoding(let coding): "unsupported Transfer-Encoding \"\(coding)\" (only chunked is accepted)"
        case .transferEncodingInHTTP10: "Transfer-Encoding is not allowed in HTTP/1.0"
        case .bodyTooLarge(let limit): "body larger than \(limit) bytes"
        case .malformedChunk(let why): "malformed chunked body: \(why)"
        case .missingHost: "an HTTP/1.1 request needs exactly one Host header"
        case .truncatedMessage: "the connection closed in the middle of a message"
        }
    }
}
