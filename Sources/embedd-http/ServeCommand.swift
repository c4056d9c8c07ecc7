import EmbedCLI
import EmbedConfig
import EmbedGateway
import EmbedSys

/// `embedd-http [serve]`: the gateway's options and its start-up.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        name: "serve", abstract: "Serve the OpenAI and TEI embedding APIs over HTTP.",
        discussion: """
        Routes: POST /v1/embeddings, GET /v1/models (OpenAI); POST /embed, GET /info, GET /health (TEI).
        A TCP listener needs --api-keys (clients send 'Authorization: Bearer KEY') unless --no-auth;
        a Unix listener (--listen unix:PATH) takes the daemon socket's mode and group instead.
        Settings come from the http: section of --config FILE, then these flags. Under systemd,
        the sockets of embedd-http.socket replace --listen. See docs/http.md.
        """)

    var socket: String?
    var listen: [HTTPListenAddress] = []
    var apiKeys: String?
    var noAuth = false
    var maxConnections: Int?
    var maxBody: Int?
    var requestTimeout: Double?
    var idleTimeout: Double?
    var config: String?

    static var arguments: [Argument<Self>] {
        [
            .option("--socket", value: "PATH", help: "embedd's socket (default: the config's socket.path, else $EMBEDD_SOCKET, else /run/embedd/embedd.sock)",
                    \.socket, .file),
            .repeated("--listen", value: "ADDR", help: "listen on HOST:PORT ([::1]:8080 for IPv6) or unix:PATH; repeatable (default 127.0.0.1:8080)",
                      \.listen, ValueParser { (text, name) throws(CLIError) in
                          guard let a = HTTPListenAddress(parsing: text) else { throw .usage("\(name) \"\(text)\" is not \(HTTPListenAddress.syntaxHelp)") }
                          return a
                      }),
            .option("--api-keys", value: "FILE", help: "bearer keys TCP clients must send, one per line (# comments)", \.apiKeys, .file),
            .flag("--no-auth", help: "serve TCP without keys: anyone who reaches the port may embed", \.noAuth),
            .option("--max-connections", value: "N", help: "most client connections at once; more get 503 (default 256)", \.maxConnections,
                    .integer(max: 65536)),
            .option("--max-body", value: "BYTES", help: "largest request body, e.g. 16777216 or 16MiB; larger gets 413 (default 16MiB)",
                    \.maxBody, ValueParser { (text, name) throws(CLIError) in
                        guard let v = Self.bytes(text), v >= 1024, v <= 1 << 30 else {
                            throw .usage("\(name) needs a size from 1024 bytes to 1GiB, such as 1048576 or 1MiB (got \"\(text)\")")
                        }
                        return v
                    }),
            .option("--request-timeout", value: "SECONDS", help: "a request's head and body must arrive within this; else 408 (default 30)",
                    \.requestTimeout, Self.seconds),
            .option("--idle-timeout", value: "SECONDS", help: "close a keep-alive connection idle this long (default 60)", \.idleTimeout, Self.seconds),
            .option("--config", value: "FILE", help: "embedd.yaml whose http: and socket: sections to read", \.config,
                    ValueParser.file.completing(.fileMatching("*.yaml"))),
        ]
    }

    static var seconds: ValueParser<Double> {
        ValueParser { (text, name) throws(CLIError) in
            guard let v = Double(text), v.isFinite, v >= 0.01, v <= 86400 else {
                throw .usage("\(name) needs a number of seconds from 0.01 to 86400 (got \"\(text)\")")
            }
            return v
        }
    }

    /// `123`, `64KiB`, `16MiB`, `1GiB`.
    static func bytes(_ text: String) -> Int? {
        for (suffix, factor) in [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("B", 1), ("", 1)] where text.hasSuffix(suffix) {
            if let n = Int(text.dropLast(suffix.count)), n >= 0, !n.multipliedReportingOverflow(by: factor).overflow { return n * factor }
        }
        return nil
    }

    func validate() throws(CLIError) {
        if noAuth && apiKeys != nil { throw .usage("--no-auth and --api-keys contradict each other; give one") }
    }

    func run() throws(CLIError) {
        // Settings: the file's http: section, then the flags.
        var settings = HTTPSettings()
        var socketPath = Environment.get("EMBEDD_SOCKET").flatMap { $0.isEmpty ? nil : $0 } ?? "/run/embedd/embedd.sock"
        if let config {
            do {
                let c = try Config.load(path: config)
                settings = c.http
                socketPath = c.socket.path
            } catch { throw .runtime("\(error)") }
        }
        if let socket { socketPath = socket }
        if !listen.isEmpty { settings.listen = listen }
        if let apiKeys { settings.apiKeysFile = apiKeys; settings.noAuth = false }
        if noAuth { settings.noAuth = true; settings.apiKeysFile = nil }
        if let maxConnections { settings.maxConnections = maxConnections }
        if let maxBody { settings.maxBodyBytes = maxBody }
        if let requestTimeout { settings.requestTimeoutSeconds = requestTimeout }
        if let idleTimeout { settings.idleTimeoutSeconds = idleTimeout }

        var keys: APIKeys?
        if let file = settings.apiKeysFile {
            do { keys = try APIKeys.load(path: file) } catch { throw .runtime(error.message) }
            if keys?.count == 0 { throw .runtime("\(file) holds no keys (one key per line; lines starting with # are comments)") }
        }

        // Signals are blocked before any thread starts, so every thread inherits the mask.
        let signals: Signals
        do { signals = try Signals.blockAndCreate([Signals.terminate, Signals.interrupt]) } catch { throw .runtime("cannot set up signals: \(error)") }
        Signals.ignoreBrokenPipe()

        var listeners: [Listener]
        do throws(GatewayError) {
            if let passed = try Listener.fromSystemd() {
                listeners = passed
            } else {
                let addresses = settings.listen.isEmpty ? [HTTPListenAddress.tcp(TCPEndpoint(host: "127.0.0.1", port: 8080))] : settings.listen
                if let tcp = addresses.first(where: \.isTCP), keys == nil, !settings.noAuth {
                    throw GatewayError(Self.needsKeys(tcp.description))
                }
                // A Unix listener lets in whoever may use the daemon's socket.
                let owner = try? FileSystem.ownership(of: socketPath)
                if owner == nil, addresses.contains(where: { !$0.isTCP }) {
                    Log.line("warning: cannot stat the daemon socket \(socketPath); Unix listeners get mode 0660 and our group")
                }
                listeners = []
                for a in addresses {
                    do throws(GatewayError) { listeners.append(try Listener.open(a, mode: owner?.mode ?? 0o660, gid: owner?.gid)) } catch {
                        for l in listeners { try? l.fd.close(); if let p = l.ownedPath { try? FileSystem.unlink(p) } }
                        throw error
                    }
                }
            }
            if let tcp = listeners.first(where: \.isTCP), keys == nil, !settings.noAuth {
                throw GatewayError(Self.needsKeys(tcp.name))
            }
        } catch { throw .runtime(error.description) }

        var limits = ServerLimits()
        limits.maxConnections = settings.maxConnections
        limits.maxBodyBytes = settings.maxBodyBytes
        limits.requestTimeoutSeconds = settings.requestTimeoutSeconds
        limits.idleTimeoutSeconds = settings.idleTimeoutSeconds
        let pool = DaemonPool(socketPath: socketPath, maxClients: min(32, settings.maxConnections))
        let router = Router(daemon: pool, keys: settings.noAuth ? nil : keys, maxConnections: settings.maxConnections)
        let server = GatewayServer(listeners: listeners, router: router, limits: limits)
        let names = listeners.map(\.name).joined(separator: ", ")
        Log.line("embedd-http \(GatewayVersion.string) listening on \(names) (daemon socket \(socketPath); "
            + "\(keys.map { "\($0.count) API key(s)" } ?? (settings.noAuth ? "no auth" : "Unix listeners only")))")
        _ = SdNotify().ready(status: "listening on \(names)")
        let status = server.run(signals: signals) { Log.line($0) }
        Log.line("embedd-http stopped")
        if status != 0 { throw CLIError(exitCode: status, message: "") }
    }

    static func needsKeys(_ listener: String) -> String {
        "a TCP listener (\(listener)) needs API keys: give --api-keys FILE (one key per line; or http.api_keys in the config), "
            + "or --no-auth to let anyone who reaches the port embed"
    }
}

/// Lines for the journal (stderr).
enum Log {
    static func line(_ s: String) {
        try? FileDescriptor.standardError.writeAll(Array(("embedd-http: " + s + "\n").utf8))
    }
}
