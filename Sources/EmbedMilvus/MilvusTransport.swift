/// One HTTP exchange with a Milvus server: what `MilvusClient` needs from the network.
///
/// `HTTPMilvusTransport` is the real one (HTTP/1.1 over a keep-alive TCP connection).
/// Implementations throw `.unreachable` for connection failures and timeouts (the client
/// retries those) and return every HTTP answer, error statuses included, as it came.
public protocol MilvusTransport: AnyObject {
    /// Sends `method path` with `body` (JSON, empty for GET) and the `headers`; returns the
    /// status and the body (chunked or not, already de-framed).
    func exchange(method: String, path: String, headers: [(String, String)], body: [UInt8]) throws(MilvusError)
        -> (status: Int, body: [UInt8])
}
