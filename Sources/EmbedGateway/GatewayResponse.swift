import EmbedHTTP

/// What the gateway answers one request with (the connection adds framing and keep-alive).
public struct GatewayResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ text: String, status: Int = 200) -> GatewayResponse {
        GatewayResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(text.utf8))
    }

    public static func error(_ e: APIError, flavor: APIFlavor) -> GatewayResponse {
        var r = json(ErrorBody.json(e, flavor: flavor), status: e.status)
        if e.status == 401 { r.headers.append("WWW-Authenticate", "Bearer") }
        return r
    }

    /// The answer to a request the HTTP codec refused (the connection closes after it).
    public static func protocolError(_ e: HTTPError) -> GatewayResponse {
        error(APIError(status: e.status, e.description), flavor: .openAI)
    }
}
