/// The bounds the gateway holds each client to.
public struct ServerLimits: Sendable {
    /// Most connections at once; the next one is answered 503 and closed.
    public var maxConnections = 256
    /// Largest request body (413 beyond it, before it is read).
    public var maxBodyBytes = 16 << 20
    /// Largest request head (431).
    public var maxHeadBytes = 16 * 1024
    /// A request's head and body must arrive within this long of its first byte (408).
    public var requestTimeoutSeconds: Double = 30
    /// An open connection with no request for this long is closed.
    public var idleTimeoutSeconds: Double = 60
    /// A client that reads none of its response for this long is dropped.
    public var writeTimeoutSeconds: Double = 30

    public init() {}
}
