import EmbedJSON

/// JSON building and answer parsing shared by the v1 and v2 requests.
enum MilvusWire {
    static func quoted(_ s: String) -> String { JSONWriter.quoted(s) }

    /// `{"collectionName": ..., "dbName": ...,` then `members` (already JSON text) `}`.
    static func body(_ url: MilvusURL, _ members: [(String, String)]) -> String {
        var out = "{\"collectionName\":" + quoted(url.collection)
        if let db = url.database { out += ",\"dbName\":" + quoted(db) }
        for (name, value) in members { out += "," + quoted(name) + ":" + value }
        return out + "}"
    }

    /// The `data` of a successful answer, or the error it reports.
    ///
    /// Both APIs answer `{"code": C, "message": M, "data": D}`, C being 200 (v1) or 0 (v2) on
    /// success; some errors come with an HTTP error status and a plain-text body instead.
    static func data(status: Int, body: [UInt8], path: String) throws(MilvusError) -> JSONValue {
        let text = String(decoding: body.prefix(2000), as: UTF8.self)
        if status == 401 || status == 403 { throw .auth("HTTP \(status) for \(path): \(text)") }
        let value: JSONValue
        do { value = try JSONValue.parse(body) } catch {
            if status >= 500 || status == 429 {
                throw .server(code: status, message: "HTTP \(status) for \(path): \(text)", transient: true)
            }
            throw .protocolError("HTTP \(status) for \(path), not JSON: \(text)")
        }
        let code = value["code"]?.int ?? (status == 200 ? 200 : status)
        guard code == 0 || code == 200 else {
            let message = value["message"]?.string ?? text
            if isAuthError(code: code, message: message) { throw .auth(message) }
            throw .server(code: code, message: message, transient: isTransient(code: code, status: status, message: message))
        }
        return value["data"] ?? .null
    }

    /// Milvus's authentication failures: v1's 1800 ("user hasn't authenticate"), the gRPC
    /// status codes it forwards (16 unauthenticated, 7 permission denied), or the words.
    static func isAuthError(code: Int, message: String) -> Bool {
        let m = message.lowercased()
        return code == 1800 || code == 16 || code == 7 || code == 2 && m.contains("auth")
            || m.contains("authenticat") || m.contains("permission denied") || m.contains("incorrect password")
    }

    /// Errors a retry can cure: overload, rate limits, a server still starting or a node down.
    static func isTransient(code: Int, status: Int, message: String) -> Bool {
        if status >= 500 || status == 429 || status == 408 { return true }
        let m = message.lowercased()
        return ["rate limit", "ratelimit", "not ready", "unavailable", "timeout", "deadline exceeded",
                "too many requests", "deny to write", "memory quota", "no available", "not healthy",
                "connection refused", "service not", "shard leader", "channel not"].contains { m.contains($0) }
    }
}
