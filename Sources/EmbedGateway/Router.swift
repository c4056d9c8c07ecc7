import EmbedClient
import EmbedHTTP
import EmbedSys
import EmbedWire

/// Maps each request to its route, checks its key, calls the daemon and writes the answer.
///
/// Routes (docs/http.md): OpenAI `POST /v1/embeddings`, `GET /v1/models`,
/// `GET /v1/models/{id}`; TEI `POST /embed`, `GET /info`, `GET /health`; Prometheus
/// `GET /metrics` (the daemon's Metrics call, passed through). Only `/health` needs no key. Errors use the route's API shape (OpenAI's for unknown paths).
public final class Router: @unchecked Sendable {
    public let daemon: DaemonPool
    /// Keys a TCP client must present; nil = no check (`--no-auth`).
    public let keys: APIKeys?
    public let maxConnections: Int
    /// Calls the daemon with this deadline (0 = the daemon's own).
    public let deadlineMilliseconds: UInt32
    private let modelsLock = ConditionLock()
    private var modelsCache: (models: [ModelInfo], at: UInt64)?

    public init(daemon: DaemonPool, keys: APIKeys?, maxConnections: Int, deadlineMilliseconds: UInt32 = 0) {
        self.daemon = daemon
        self.keys = keys
        self.maxConnections = maxConnections
        self.deadlineMilliseconds = deadlineMilliseconds
    }

    /// Answers one request. `overTCP`: it came through a TCP listener (a Unix listener's clients
    /// were checked by the socket file's permissions and need no key).
    public func handle(_ head: HTTPRequestHead, body: [UInt8], overTCP: Bool) -> GatewayResponse {
        let path = head.path
        let flavor: APIFlavor = path.hasPrefix("/v1/") ? .openAI : (path == "/embed" || path == "/info" || path == "/health") ? .tei : .openAI
        do throws(APIError) {
            if path == "/health" {
                try requireMethod(head, "GET", "HEAD")
                return try health()
            }
            if overTCP, let keys, !keys.accepts(authorization: head.headers["Authorization"]) {
                throw head.headers["Authorization"] == nil
                    ? APIError(status: 401, "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'.", type: "invalid_request_error",
                               code: "missing_api_key")
                    : APIError(status: 401, "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key")
            }
            switch path {
            case "/v1/embeddings":
                try requireMethod(head, "POST")
                return try openAIEmbeddings(body)
            case "/v1/models":
                try requireMethod(head, "GET", "HEAD")
                return .json(ModelsResponse.openAIList(try models(fresh: true)))
            case _ where path.hasPrefix("/v1/models/"):
                try requireMethod(head, "GET", "HEAD")
                let name = Self.percentDecoded(String(path.dropFirst("/v1/models/".count)))
                return .json(try ModelsResponse.openAIModel(named: name, in: try models(fresh: true)))
            case "/embed":
                try requireMethod(head, "POST")
                return try teiEmbed(body)
            case "/metrics":
                try requireMethod(head, "GET", "HEAD")
                return try metrics()
            case "/info":
                try requireMethod(head, "GET", "HEAD")
                guard let m = ModelsResponse.resolve("", in: try models(fresh: true)) else {
                    throw APIError(status: 503, "embedd has no model loaded", teiType: "Unhealthy")
                }
                return .json(ModelsResponse.teiInfo(m, version: GatewayVersion.string, maxConnections: maxConnections, maxInputsPerCall: 1024))
            default:
                throw APIError(status: 404, "Unknown route \(head.method) \(path) (embedd-http serves POST /v1/embeddings, GET /v1/models, POST /embed, GET /info, GET /health, GET /metrics)",
                               code: "unknown_url")
            }
        } catch {
            var r = GatewayResponse.error(error, flavor: flavor)
            if error.status == 405 { r.headers.append("Allow", error.param ?? "") }
            return r
        }
    }

    private func requireMethod(_ head: HTTPRequestHead, _ allowed: String...) throws(APIError) {
        guard allowed.contains(head.method) else {
            throw APIError(status: 405, "\(head.path) takes \(allowed.joined(separator: " or ")), not \(head.method)",
                           param: allowed.joined(separator: ", "))
        }
    }

    private func openAIEmbeddings(_ body: [UInt8]) throws(APIError) -> GatewayResponse {
        let request = try OpenAIEmbeddings.parse(body)
        let r = try embed(request.call, flavor: .openAI)
        return .json(try request.response(r))
    }

    private func teiEmbed(_ body: [UInt8]) throws(APIError) -> GatewayResponse {
        let request = try TEIEmbed.parse(body)
        // Whether the model normalizes: from the (briefly cached) model list.
        var models = try self.models(fresh: false)
        if ModelsResponse.resolve(request.call.model, in: models) == nil { models = try self.models(fresh: true) }
        guard let info = ModelsResponse.resolve(request.call.model, in: models) else {
            throw APIError(status: 404, request.call.model.isEmpty ? "embedd has no model loaded" : "no model '\(request.call.model)'",
                           code: "model_not_found")
        }
        let r = try embed(request.call, flavor: .tei)
        return .json(try request.response(r, modelNormalizes: info.normalized))
    }

    /// The daemon's Prometheus exposition, as it wrote it. Its per-collection series are those
    /// the gateway's own user may read (docs/operations.md, "Metrics").
    private func metrics() throws(APIError) -> GatewayResponse {
        let deadline = deadlineMilliseconds
        do {
            let text = try daemon.withClient { (c: EmbedClient) throws(ClientError) -> String in
                try c.metrics(deadlineMilliseconds: deadline)
            }
            return GatewayResponse(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                                   body: Array(text.utf8))
        } catch {
            if case .rpc(let code, let message) = error {
                throw APIError(status: APIError.httpStatus(for: code), "embedd's Metrics call failed: \(message)")
            }
            throw APIError(status: 503, "embedd is not reachable at \(daemon.socketPath): \(error)", teiType: "Unhealthy")
        }
    }

    /// One Embed call; the daemon's status becomes an HTTP error.
    private func embed(_ call: EmbedCall, flavor: APIFlavor) throws(APIError) -> EmbedResponse {
        let request = call.request
        let deadline = deadlineMilliseconds
        do {
            return try daemon.withClient { (c: EmbedClient) throws(ClientError) -> EmbedResponse in
                try c.call(.embed, request, as: EmbedResponse.self, deadlineMilliseconds: deadline)
            }
        } catch {
            throw Self.apiError(error, call: call, flavor: flavor, socket: daemon.socketPath)
        }
    }

    static func apiError(_ error: ClientError, call: EmbedCall, flavor: APIFlavor, socket: String) -> APIError {
        guard case .rpc(let code, let message) = error else {
            return APIError(status: 503, "embedd is not reachable at \(socket): \(error)", teiType: "Unhealthy")
        }
        if flavor == .tei && TEIEmbed.isTooLong(code, message) {
            return APIError(status: 413, message, param: "inputs", teiType: "Validation")
        }
        var e = APIError(status: APIError.httpStatus(for: code), message)
        if code == .notFound && message.contains("model") {
            e.param = "model"
            e.code = "model_not_found"
        }
        return e
    }

    /// The daemon's models, cached for 2 s unless `fresh`.
    func models(fresh: Bool) throws(APIError) -> [ModelInfo] {
        let now = Clock.monotonicNanoseconds()
        if !fresh, let cached = modelsLock.withLock({ modelsCache }), now - cached.at < 2_000_000_000 { return cached.models }
        let deadline = deadlineMilliseconds
        do {
            let models = try daemon.withClient { (c: EmbedClient) throws(ClientError) -> [ModelInfo] in
                try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self, deadlineMilliseconds: deadline).models
            }
            modelsLock.withLock { modelsCache = (models, now) }
            return models
        } catch {
            throw APIError(status: error.status.map(APIError.httpStatus) ?? 503, "embedd is not reachable at \(daemon.socketPath): \(error)",
                           teiType: "Unhealthy")
        }
    }

    /// TEI's health check: 200 when the daemon answers and its default model is ready.
    private func health() throws(APIError) -> GatewayResponse {
        let models = try self.models(fresh: true)
        guard let m = ModelsResponse.resolve("", in: models) else { throw APIError(status: 503, "embedd has no model", teiType: "Unhealthy") }
        guard m.state == .ready else { throw APIError(status: 503, "model '\(m.name)' is not ready", teiType: "Unhealthy") }
        return GatewayResponse(status: 200)
    }

    /// `%XX` escapes decoded (a model name in a path); invalid escapes are kept as written.
    static func percentDecoded(_ s: String) -> String {
        var out: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == 37, i + 2 < u.count, let v = UInt8(String(decoding: u[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(v)
                i += 3
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
