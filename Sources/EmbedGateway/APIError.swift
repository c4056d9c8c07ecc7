import EmbedWire

/// A request the gateway answers with an error: the HTTP status and what to tell the client.
/// Rendered in the shape of the route's API (`ErrorBody`): OpenAI's
/// `{"error":{"message","type","param","code"}}` or TEI's `{"error","error_type"}`.
public struct APIError: Error, Equatable, Sendable {
    public var status: Int
    public var message: String
    /// OpenAI's `type` (`invalid_request_error`, `authentication_error`, `server_error`…).
    public var type: String
    /// The request field at fault (OpenAI's `param`), or nil.
    public var param: String?
    /// OpenAI's `code` (`model_not_found`, `invalid_api_key`…), or nil.
    public var code: String?
    /// TEI's `error_type` (`Validation`, `Backend`, `Overloaded`, `Unhealthy`, `Empty`).
    public var teiType: String

    public init(status: Int, _ message: String, type: String? = nil, param: String? = nil, code: String? = nil, teiType: String? = nil) {
        self.status = status
        self.message = message
        self.type = type ?? (status >= 500 ? "server_error" : "invalid_request_error")
        self.param = param
        self.code = code
        self.teiType = teiType ?? (status == 429 ? "Overloaded" : status == 503 ? "Unhealthy" : status >= 500 ? "Backend" : "Validation")
    }

    /// A 400 about one field of the request body.
    public static func invalid(_ message: String, param: String? = nil) -> APIError {
        APIError(status: 400, message, param: param)
    }

    /// The status a daemon call's gRPC code becomes (docs/http.md, "Errors").
    public static func httpStatus(for code: StatusCode) -> Int {
        switch code {
        case .invalidArgument, .outOfRange, .failedPrecondition: 400
        case .unauthenticated: 401
        case .permissionDenied: 403
        case .notFound: 404
        case .alreadyExists, .aborted: 409
        case .resourceExhausted: 429
        case .cancelled: 499
        case .unimplemented: 501
        case .unavailable: 503
        case .deadlineExceeded: 504
        default: 500
        }
    }
}
