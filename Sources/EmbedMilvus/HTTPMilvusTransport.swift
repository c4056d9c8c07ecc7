import EmbedHTTP
import EmbedSys

/// The real `MilvusTransport`: an HTTP/1.1 client on one keep-alive TCP connection.
///
/// Requests carry `Content-Length`; responses may use `Content-Length`, chunked coding or
/// end at close (EmbedHTTP's codec reads all three). The connection is opened on first use,
/// reused while the server keeps it alive, and reopened once when a reused connection turns
/// out to be closed before any answer byte came (the server's idle timeout). Every connect,
/// send and read has a timeout; a failure or a timeout is `.unreachable` (the client retries).
/// Host names are resolved with `getaddrinfo` (IPv4 or IPv6, first address).
public final class HTTPMilvusTransport: MilvusTransport {
    public let host: String
    public let port: Int
    public var connectTimeout: Double
    /// The longest wait for each read or write of an exchange (Milvus answers large inserts
    /// only once they are persisted to its log, so this is generous).
    public var ioTimeout: Double
    private var fd: FileDescriptor?
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    public init(host: String, port: Int, connectTimeout: Double = 10, ioTimeout: Double = 120) {
        self.host = host
        self.port = port
        self.connectTimeout = connectTimeout
        self.ioTimeout = ioTimeout
    }

    deinit { close() }

    /// Closes the connection (the next exchange opens a new one).
    public func close() {
        if let fd { try? fd.close() }
        fd = nil
    }

    public func exchange(method: String, path: String, headers: [(String, String)], body: [UInt8]) throws(MilvusError)
        -> (status: Int, body: [UInt8]) {
        let reused = fd != nil
        do {
            return try exchangeOnce(method: method, path: path, headers: headers, body: body)
        } catch .closedEarly where reused {
            close()
            do { return try exchangeOnce(method: method, path: path, headers: headers, body: body) } catch {
                close()
                throw error.milvus(host: host, port: port)
            }
        } catch {
            close()
            throw error.milvus(host: host, port: port)
        }
    }

    private enum Failure: Error {
        case closedEarly
        case io(String)
        case http(HTTPError)

        func milvus(host: String, port: Int) -> MilvusError {
            let at = "\(host.contains(":") ? "[\(host)]" : host):\(port)"
            switch self {
            case .closedEarly: return .unreachable("\(at) closed the connection without answering")
            case .io(let m): return .unreachable("\(at): \(m)")
            case .http(let e): return .protocolError("\(at) sent a malformed HTTP response: \(e)")
            }
        }
    }

    private func connection() throws(Failure) -> FileDescriptor {
        if let fd { return fd }
        let address = try resolve()
        let endpoint = TCPEndpoint(host: address, port: UInt16(port))
        let socket: FileDescriptor
        do { socket = try TCPSocket.connect(endpoint, timeoutMilliseconds: Int32(connectTimeout * 1000)) } catch {
            throw .io(error == Errno.timedOut ? "connect timed out after \(connectTimeout) s" : "connect: \(error)")
        }
        do {
            try UnixSocket.setReceiveTimeout(socket, seconds: ioTimeout)
            try UnixSocket.setSendTimeout(socket, seconds: ioTimeout)
        } catch {
            try? socket.close()
            throw .io("setsockopt: \(error)")
        }
        fd = socket
        return socket
    }

    /// An IP literal for `host` ("localhost" and literals as they are; names by getaddrinfo).
    private func resolve() throws(Failure) -> String {
        do { return try HostResolver.address(of: host) } catch { throw .io(error.description) }
    }

    private func exchangeOnce(method: String, path: String, headers: [(String, String)], body: [UInt8]) throws(Failure)
        -> (status: Int, body: [UInt8]) {
        let socket = try connection()
        var head = HTTPHeaders()
        head.append("Host", host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        for (name, value) in headers { head.append(name, value) }
        if method != "GET" || !body.isEmpty { head.append("Content-Length", String(body.count)) }
        let request = HTTPRequestHead(method: method, target: path, headers: head).serialized(body: body)
        do { try UnixSocket.sendAll(socket, request) } catch {
            if error == Errno.brokenPipe || error == Errno.connectionReset { throw .closedEarly }
            throw .io(error == .wouldBlock ? "send timed out after \(ioTimeout) s" : "send: \(error)")
        }
        // Read the head.
        var pending: [UInt8] = []
        var parsed: (head: HTTPResponseHead, length: Int)?
        while parsed == nil {
            let n = try read(socket, path: path)
            if n == 0 {
                if pending.isEmpty { throw .closedEarly }
                throw .io("the connection closed in the middle of the response head")
            }
            pending.append(contentsOf: buffer[0..<n])
            do { parsed = try HTTPResponseHead.parse(pending) } catch { throw .http(error) }
        }
        let (responseHead, headLength) = parsed!
        let limits = HTTPLimits(maxBodyBytes: 1 << 30)
        var decoder: HTTPBodyDecoder
        do { decoder = HTTPBodyDecoder(framing: try responseHead.framing(requestMethod: method, limits: limits), maxBodyBytes: limits.maxBodyBytes) } catch {
            throw .http(error)
        }
        var answer: [UInt8] = []
        func feed(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
            do { _ = try decoder.decode(bytes, into: &answer) } catch { throw .http(error) }
        }
        let rest = Array(pending[headLength...])
        if !rest.isEmpty { try rest.withUnsafeBytes { raw in Result { () throws(Failure) in try feed(raw) } }.get() }
        while !decoder.isComplete {
            let n = try read(socket, path: path)
            if n == 0 {
                do { try decoder.finish() } catch { throw .io("the connection closed in the middle of the response body") }
                break
            }
            try buffer.withUnsafeBytes { raw in Result { () throws(Failure) in try feed(UnsafeRawBufferPointer(rebasing: raw[0..<n])) } }.get()
        }
        if !responseHead.keepAlive || decoder.framing == .untilClose { close() }
        return (responseHead.status, answer)
    }

    private func read(_ socket: FileDescriptor, path: String) throws(Failure) -> Int {
        let result = buffer.withUnsafeMutableBytes { raw in
            Result { () throws(Errno) in try UnixSocket.receive(socket, into: raw) }
        }
        switch result {
        case .success(let n):
            guard let n else { throw .io("no answer to \(path) within \(ioTimeout) s") }
            return n
        case .failure(let error):
            if error == Errno.connectionReset { throw .closedEarly }
            throw .io("receive: \(error)")
        }
    }
}
