/// Whether a connection stays open after a message (RFC 9112 §9.3).
public enum HTTPKeepAlive {
    /// HTTP/1.1 persists unless `Connection: close`; HTTP/1.0 closes unless `Connection: keep-alive`.
    public static func isPersistent(version: HTTPVersion, headers: HTTPHeaders) -> Bool {
        let tokens = headers.tokens("Connection")
        if tokens.contains("close") { return false }
        if version == .http11 { return true }
        return tokens.contains("keep-alive")
    }
}
