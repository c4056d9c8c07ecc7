import EmbedClient
import EmbedSys
import EmbedWire

/// Connections to the daemon, shared by the gateway's connection threads.
///
/// `EmbedClient` is one blocking connection and not thread-safe, so each call borrows a client,
/// and gives it back when the call ends. At most `maxClients` exist at once (the daemon limits
/// connections per uid, 64 by default): a thread that finds none free waits. A client whose
/// connection broke is dropped, and a call that failed because the daemon went away (it
/// restarted) is tried once more on a fresh connection; embedding calls are idempotent.
public final class DaemonPool: @unchecked Sendable {
    public let socketPath: String
    public let maxClients: Int
    private let lock = ConditionLock()
    private var idle: [EmbedClient] = []
    private var open = 0

    public init(socketPath: String, maxClients: Int = 32) {
        self.socketPath = socketPath
        self.maxClients = max(1, maxClients)
    }

    /// Runs `body` with a connected client.
    public func withClient<T>(_ body: (EmbedClient) throws(ClientError) -> T) throws(ClientError) -> T {
        var attempt = 0
        while true {
            attempt += 1
            let client = try borrow()
            do {
                let result = try body(client)
                giveBack(client, broken: false)
                return result
            } catch {
                let broken = Self.connectionBroke(error)
                giveBack(client, broken: broken)
                // A pooled connection the daemon closed (restart, idle timeout): one retry.
                if broken && attempt == 1 { continue }
                throw error
            }
        }
    }

    /// Whether `error` means the connection is unusable (as opposed to a call that failed).
    static func connectionBroke(_ error: ClientError) -> Bool {
        switch error {
        case .rpc: false
        default: true
        }
    }

    private func borrow() throws(ClientError) -> EmbedClient {
        let reused: EmbedClient? = lock.withLock {
            while idle.isEmpty && open >= maxClients { lock.wait() }
            if let c = idle.popLast() { return c }
            open += 1
            return nil
        }
        if let reused { return reused }
        do { return try EmbedClient(socketPath: socketPath, clientName: "embedd-http/\(GatewayVersion.string)") } catch {
            lock.withLock { open -= 1; lock.signal() }
            throw error
        }
    }

    private func giveBack(_ client: EmbedClient, broken: Bool) {
        if broken { client.close() }
        lock.withLock {
            if broken { open -= 1 } else { idle.append(client) }
            lock.signal()
        }
    }
}

/// embedd-http's version (the same as the daemon's release).
public enum GatewayVersion {
    public static let string = "0.1.0"
}
