import EmbedSys

/// The `http:` section: what `embedd-http` (the OpenAI- and TEI-compatible gateway) listens on
/// and how it limits clients. The daemon itself ignores it but `embedd --check-config`
/// validates it; embedd-http's flags override each setting.
public struct HTTPSettings: Sendable, Equatable {
    /// Where to listen: TCP `HOST:PORT` (IPv6 in brackets) or `unix:PATH`. Empty means the
    /// gateway's default (127.0.0.1:8080), unless systemd passes the sockets.
    public var listen: [HTTPListenAddress] = []
    /// File of bearer keys, one per line (`#` comments and blank lines ignored).
    public var apiKeysFile: String? = nil
    /// Serve TCP without keys (anyone who can reach the port can embed).
    public var noAuth = false
    /// Most client connections open at once; more are answered 503 and closed.
    public var maxConnections = 256
    /// Largest request body, in bytes (413 beyond it).
    public var maxBodyBytes = 16 << 20
    /// A request's head and body must arrive within this many seconds of its first byte (408).
    public var requestTimeoutSeconds: Double = 30
    /// A keep-alive connection with no request for this long is closed.
    public var idleTimeoutSeconds: Double = 60

    public init() {}
}

/// One `listen` entry of the `http:` section or of `embedd-http --listen`.
public enum HTTPListenAddress: Sendable, Hashable, CustomStringConvertible {
    case tcp(TCPEndpoint)
    case unix(String)

    /// Parses `unix:PATH` or `HOST:PORT` (`[::1]:8080`); nil for anything else.
    public init?(parsing text: String) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty, path.utf8.count <= UnixSocket.maxPathBytes, !path.utf8.contains(0) else { return nil }
            self = .unix(path)
        } else if let endpoint = TCPEndpoint(parsing: text) {
            self = .tcp(endpoint)
        } else {
            return nil
        }
    }

    /// What a message says about an unparsable address.
    public static let syntaxHelp = "HOST:PORT with an IP address (127.0.0.1:8080, [::1]:8080, localhost:8080) or unix:PATH"

    public var isTCP: Bool { if case .tcp = self { return true } else { return false } }

    public var description: String {
        switch self {
        case .tcp(let e): e.description
        case .unix(let p): "unix:" + p
        }
    }
}
