import EmbedHTTP
import EmbedSys

/// One client connection, served on its own thread: requests are read, answered and written
/// one after another (so pipelined requests are answered in order), with the head/body
/// deadline, idle timeout and size limits of `ServerLimits`. A request the codec refuses gets
/// its error status and the connection closes (its framing cannot be trusted any more); no
/// other client notices.
final class ClientConnection: @unchecked Sendable {  // used by one thread at a time
    let fd: FileDescriptor
    let overTCP: Bool
    let router: Router
    let limits: ServerLimits
    let isStopping: @Sendable () -> Bool
    private var inbox: [UInt8] = []
    private var start = 0
    private var chunk = [UInt8](repeating: 0, count: 64 * 1024)

    init(fd: FileDescriptor, overTCP: Bool, router: Router, limits: ServerLimits, isStopping: @escaping @Sendable () -> Bool) {
        self.fd = fd
        self.overTCP = overTCP
        self.router = router
        self.limits = limits
        self.isStopping = isStopping
    }

    private enum ReadResult { case data, closed, timedOut, failed }

    /// Serves requests until the client closes, an error, a timeout or shutdown.
    func serve() {
        defer { try? fd.close() }
        let httpLimits = HTTPLimits(maxHeadBytes: limits.maxHeadBytes, maxHeaderCount: 100, maxBodyBytes: limits.maxBodyBytes)
        var scanner = HTTPHeadScanner(maxHeadBytes: limits.maxHeadBytes)
        while true {
            // The head: idle until its first byte, then within the request deadline.
            scanner.reset()
            var requestStarted: UInt64? = start < inbox.count ? Clock.monotonicNanoseconds() : nil
            let idleDeadline = Clock.monotonicNanoseconds() + Self.nanoseconds(limits.idleTimeoutSeconds)
            let head: HTTPRequestHead
            do throws(HTTPError) {
                while true {
                    let range = try withPending { pending throws(HTTPError) in try scanner.scan(pending) }
                    if let range {
                        head = try withPending { pending throws(HTTPError) in try HTTPRequestHead.parse(head: pending[range], limits: httpLimits) }
                        start += range.upperBound
                        break
                    }
                    let deadline = requestStarted.map { $0 + Self.nanoseconds(limits.requestTimeoutSeconds) } ?? idleDeadline
                    switch receive(until: deadline, idle: requestStarted == nil) {
                    case .data: if requestStarted == nil { requestStarted = Clock.monotonicNanoseconds() }
                    case .closed, .failed: return
                    case .timedOut:
                        // Idle: close quietly. Part of a head: tell the client why.
                        if requestStarted != nil { finish(GatewayResponse.error(APIError(status: 408, "the request head did not arrive in time"), flavor: .openAI)) }
                        return
                    }
                }
            } catch {
                finish(.protocolError(error))
                return
            }

            // The body.
            var body: [UInt8] = []
            if case .length(let n) = head.framing, n > 0 { body.reserveCapacity(n) }
            var decoder = HTTPBodyDecoder(framing: head.framing, maxBodyBytes: limits.maxBodyBytes)
            if !decoder.isComplete && head.expectsContinue {
                guard write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return }
            }
            let bodyDeadline = (requestStarted ?? Clock.monotonicNanoseconds()) + Self.nanoseconds(limits.requestTimeoutSeconds)
            do throws(HTTPError) {
                while true {
                    let used = try withPending { pending throws(HTTPError) in try decoder.decode(pending, into: &body) }
                    start += used
                    if decoder.isComplete { break }
                    switch receive(until: bodyDeadline, idle: false) {
                    case .data: continue
                    case .closed, .failed: return
                    case .timedOut:
                        finish(GatewayResponse.error(APIError(status: 408, "the request body did not arrive in time"), flavor: .openAI))
                        return
                    }
                }
            } catch {
                finish(.protocolError(error))
                return
            }
            compactInbox()

            let response = router.handle(head, body: body, overTCP: overTCP)
            let keepAlive = head.keepAlive && !isStopping()
            var out = Self.responseHead(response, version: head.version, keepAlive: keepAlive)
            if head.method != "HEAD" { out.append(contentsOf: response.body) }
            guard write(out) else { return }
            if !keepAlive {
                UnixSocket.shutdownWrite(fd)
                return
            }
        }
    }

    /// The response's head bytes: its fields, Content-Length, and Connection as needed.
    static func responseHead(_ r: GatewayResponse, version: HTTPVersion, keepAlive: Bool) -> [UInt8] {
        var head = HTTPResponseHead(status: r.status, version: .http11, headers: r.headers)
        head.headers.set("Content-Length", String(r.body.count))
        if !keepAlive { head.headers.set("Connection", "close") }
        else if version == .http10 { head.headers.set("Connection", "keep-alive") }
        var out: [UInt8] = []
        out.reserveCapacity(200 + r.body.count)
        head.serialize(into: &out)
        return out
    }

    /// Sends an error answer, closes the sending side, and reads (and drops) what the client
    /// still sends for up to a second: closing with unread bytes would make the kernel reset
    /// the connection, and a client still sending its body (a 413) would never see the answer.
    private func finish(_ response: GatewayResponse) {
        var out = Self.responseHead(response, version: .http11, keepAlive: false)
        out.append(contentsOf: response.body)
        guard write(out) else { return }
        UnixSocket.shutdownWrite(fd)
        let deadline = Clock.monotonicNanoseconds() + 1_000_000_000
        var drained = 0
        while drained < 16 << 20 {
            inbox.removeAll(keepingCapacity: true)
            start = 0
            guard receive(until: deadline, idle: false) == .data else { return }
            drained += inbox.count
        }
    }

    /// The received bytes not yet consumed.
    private func withPending<T>(_ body: (UnsafeRawBufferPointer) throws(HTTPError) -> T) throws(HTTPError) -> T {
        try inbox.withUnsafeBytes { raw in
            Result { () throws(HTTPError) in try body(UnsafeRawBufferPointer(rebasing: raw[start...])) }
        }.get()
    }

    private func compactInbox() {
        if start == inbox.count { inbox.removeAll(keepingCapacity: true); start = 0 }
        else if start > 64 * 1024 { inbox.removeFirst(start); start = 0 }
    }

    /// Reads what is available, waiting until `deadline`. While `idle` (between requests) it
    /// wakes every 250 ms to notice shutdown.
    private func receive(until deadline: UInt64, idle: Bool) -> ReadResult {
        var entries = [Poll.Entry(fd, .readable)]
        while true {
            let now = Clock.monotonicNanoseconds()
            if now >= deadline { return .timedOut }
            if idle && isStopping() { return .closed }
            var wait = Int32(min((deadline - now) / 1_000_000 + 1, UInt64(Int32.max)))
            if idle { wait = min(wait, 250) }
            guard let ready = try? Poll.wait(&entries, timeoutMilliseconds: wait) else { return .failed }
            if ready == 0 { continue }
            let result = chunk.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try UnixSocket.receive(fd, into: raw) } }
            switch result {
            case .success(nil): continue
            case .success(0): return .closed
            case .success(let n?):
                // Bounded: we read only while a head or body is incomplete, and both have limits.
                inbox.append(contentsOf: chunk[0..<n])
                return .data
            case .failure: return .failed
            }
        }
    }

    /// Writes all of `bytes`, giving up after the write timeout without progress.
    private func write(_ bytes: [UInt8]) -> Bool {
        var done = 0
        var entries = [Poll.Entry(fd, .writable)]
        return bytes.withUnsafeBytes { raw in
            while done < raw.count {
                switch Result(catching: { () throws(Errno) in try UnixSocket.send(fd, UnsafeRawBufferPointer(rebasing: raw[done...])) }) {
                case .success(let n?): done += n
                case .success(nil):
                    guard let ready = try? Poll.wait(&entries, timeoutMilliseconds: Int32(limits.writeTimeoutSeconds * 1000)), ready > 0 else { return false }
                case .failure: return false
                }
            }
            return true
        }
    }

    static func nanoseconds(_ seconds: Double) -> UInt64 { UInt64(max(0, seconds) * 1e9) }
}
