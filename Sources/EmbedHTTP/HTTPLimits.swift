/// Bounds on what a parser accepts from a peer, so a hostile one costs bounded memory.
public struct HTTPLimits: Sendable, Equatable {
    /// Longest head (start line + header fields + blank line) in bytes.
    public var maxHeadBytes: Int
    /// Most header fields in one head.
    public var maxHeaderCount: Int
    /// Largest body (after chunked decoding) in bytes.
    public var maxBodyBytes: Int

    public init(maxHeadBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 16 * 1024 * 1024) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}
