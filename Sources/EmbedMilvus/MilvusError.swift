/// What went wrong talking to Milvus, each case with a message a user can act on.
public enum MilvusError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The `milvus://` URL does not parse (the text says which part is wrong).
    case badURL(String)
    /// The server cannot be reached (connect refused, DNS, timeout); transient.
    case unreachable(String)
    /// The server refused the credentials (HTTP 401/403, Milvus auth codes).
    case auth(String)
    /// The named collection does not exist (and `--create` was not given).
    case noCollection(String)
    /// The collection exists but cannot take embedd's records (dimension, metric, fields).
    case incompatible(String)
    /// Milvus answered an error: its code and message, and whether a retry may succeed.
    case server(code: Int, message: String, transient: Bool)
    /// The answer is not what the API promises (not JSON, missing members).
    case protocolError(String)

    /// Whether retrying the same request later may succeed (outage, overload, rate limit).
    public var isTransient: Bool {
        switch self {
        case .unreachable: return true
        case .server(_, _, let transient): return transient
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .badURL(let m): return "bad Milvus URL: \(m)"
        case .unreachable(let m): return "cannot reach Milvus: \(m)"
        case .auth(let m): return "Milvus refused the credentials: \(m) (give a token with --token USER:PASSWORD or an API key)"
        case .noCollection(let m): return m
        case .incompatible(let m): return m
        case .server(let code, let message, _): return "Milvus error \(code): \(message)"
        case .protocolError(let m): return "unexpected answer from Milvus: \(m)"
        }
    }
}
