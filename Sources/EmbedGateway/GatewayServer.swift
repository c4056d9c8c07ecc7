import EmbedHTTP
import EmbedSys

/// The accept loop: a thread per client connection (so a slow client holds only its own
/// thread), at most `maxConnections` of them; one over that is answered 503 and closed.
/// SIGTERM or SIGINT stop accepting, let requests in progress finish (up to 10 s) and return.
public final class GatewayServer: @unchecked Sendable {
    public let listeners: [Listener]
    public let router: Router
    public let limits: ServerLimits
    private let lock = ConditionLock()
    private var active = 0
    private var stopping = false

    public init(listeners: [Listener], router: Router, limits: ServerLimits) {
        self.listeners = listeners
        self.router = router
        self.limits = limits
    }

    /// Connections open now.
    public var activeConnections: Int { lock.withLock { active } }

    /// Serves until one of `signals` arrives (SIGTERM, SIGINT). Returns the exit status.
    public func run(signals: Signals, log: @escaping @Sendable (String) -> Void) -> Int32 {
        for l in listeners { try? l.fd.setNonBlocking(true) }
        var entries = listeners.map { Poll.Entry($0.fd, .readable) } + [Poll.Entry(signals.descriptor, .readable)]
        serving: while true {
            do { _ = try Poll.wait(&entries, timeoutMilliseconds: -1) } catch {
                log("poll failed: \(error)")
                break
            }
            if entries.last!.returned.contains(.readable), !signals.drain().isEmpty { break serving }
            for (i, listener) in listeners.enumerated() where !entries[i].returned.isEmpty {
                acceptAll(listener, log: log)
            }
        }
        lock.withLock { stopping = true }
        for l in listeners {
            try? l.fd.close()
            if let p = l.ownedPath { try? FileSystem.unlink(p) }
        }
        // Requests in progress finish; idle keep-alive connections notice `stopping` within 250 ms.
        let deadline = Clock.monotonicNanoseconds() + 10_000_000_000
        lock.withLock {
            while active > 0 && Clock.monotonicNanoseconds() < deadline { lock.wait(seconds: 0.1) }
        }
        return 0
    }

    private func acceptAll(_ listener: Listener, log: @Sendable (String) -> Void) {
        while true {
            let accepted: FileDescriptor?
            do { accepted = listener.isTCP ? try TCPSocket.accept(listener.fd) : try UnixSocket.accept(listener.fd) } catch {
                // EMFILE and the like: leave the connection queued and try again on the next wakeup.
                if error == .tooManyOpenFiles || error == .fileTableOverflow { log("accept on \(listener.name): \(error)"); Clock.sleep(seconds: 0.05) }
                return
            }
            guard let fd = accepted else { return }
            let admitted: Bool = lock.withLock {
                guard active < limits.maxConnections, !stopping else { return false }
                active += 1
                return true
            }
            guard admitted else {
                refuse(fd)
                continue
            }
            let connection = ClientConnection(fd: fd, overTCP: listener.isTCP, router: router, limits: limits,
                                              isStopping: { [unowned self] in self.lock.withLock { self.stopping } })
            do {
                try OSThread.detach { [self] in
                    connection.serve()
                    lock.withLock { active -= 1; lock.broadcast() }
                }
            } catch {
                log("cannot start a connection thread: \(error)")
                lock.withLock { active -= 1 }
                refuse(fd)
            }
        }
    }

    /// Tells a client over the connection limit to come back later, without waiting on it.
    private func refuse(_ fd: FileDescriptor) {
        let body = Array(ErrorBody.json(APIError(status: 503, "embedd-http is serving its maximum of \(limits.maxConnections) connections; retry later",
                                                 teiType: "Overloaded"), flavor: .openAI).utf8)
        let head = HTTPResponseHead(status: 503, headers: ["Content-Type": "application/json", "Retry-After": "1", "Connection": "close"])
        let bytes = head.serialized(body: body)
        bytes.withUnsafeBytes { _ = try? UnixSocket.send(fd, $0) }
        try? fd.close()
    }
}
