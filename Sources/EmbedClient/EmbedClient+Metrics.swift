import EmbedWire

/// The Metrics call (id 6, protocol 1.3).
extension EmbedClient {
    /// The daemon's metrics in the Prometheus text exposition format (version 0.0.4), as the
    /// daemon wrote it: serve it as-is with `Content-Type: text/plain; version=0.0.4`.
    /// Per-collection series cover only the collections this connection's user may read.
    /// - Throws: `ClientError.rpc(.unimplemented, …)` from daemons older than protocol 1.3.
    public func metrics(deadlineMilliseconds: UInt32 = 0) throws(ClientError) -> String {
        try call(.metrics, MetricsRequest(), as: MetricsResponse.self, deadlineMilliseconds: deadlineMilliseconds).text
    }
}
