import EmbedClient
import EmbedSys

/// Options shared by every command, and the connection they lead to.
struct GlobalOptions {
    var socketPath: String
    var timeoutSeconds: Double

    init(_ parsed: ParsedArguments) throws(CLIError) {
        socketPath = parsed.value("--socket") ?? Environment.get("EMBEDD_SOCKET").flatMap { $0.isEmpty ? nil : $0 } ?? "/run/embedd/embedd.sock"
        timeoutSeconds = 120
        if let t = parsed.value("--timeout") {
            guard let v = Double(t), v > 0, v.isFinite else { throw .usage("--timeout needs a positive number of seconds (got \"\(t)\")") }
            timeoutSeconds = v
        }
    }

    /// Connects to the daemon.
    func connect() throws(CLIError) -> EmbedClient {
        do { return try EmbedClient(socketPath: socketPath, clientName: "embedctl/0.1", timeoutSeconds: timeoutSeconds) } catch {
            throw .runtime(error.description)
        }
    }

    /// The deadline sent with calls, in milliseconds.
    var deadlineMilliseconds: UInt32 { UInt32(min(timeoutSeconds * 1000, Double(UInt32.max))) }
}
