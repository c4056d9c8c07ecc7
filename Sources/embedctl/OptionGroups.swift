import EmbedCLI
import EmbedClient
import EmbedSys
import EmbedWire

/// The option groups several commands share (swift-argument-parser's `@OptionGroup`): each is
/// declared once here and included with `.group(\.field)`.

/// `--socket`, `--timeout`, and the connection they lead to. Every command takes them (last in
/// its table, so they close its help), and they may come before the subcommand.
struct ConnectionOptions: ParsableArguments {
    var socket: String?
    var timeout: Double?

    static var arguments: [Argument<Self>] {
        [
            .option("--socket", value: "PATH", help: "daemon socket (default: $EMBEDD_SOCKET, else /run/embedd/embedd.sock)", \.socket, .file),
            .option("--timeout", value: "SECONDS", help: "give up waiting for the daemon after this long (default 120)", \.timeout,
                    ValueParser { (text, name) throws(CLIError) in
                        guard let v = Double(text), v > 0, v.isFinite else { throw .usage("\(name) needs a positive number of seconds (got \"\(text)\")") }
                        return v
                    }),
        ]
    }

    var socketPath: String {
        socket ?? Environment.get("EMBEDD_SOCKET").flatMap { $0.isEmpty ? nil : $0 } ?? "/run/embedd/embedd.sock"
    }

    var timeoutSeconds: Double { timeout ?? 120 }

    /// The deadline sent with calls, in milliseconds.
    var deadlineMilliseconds: UInt32 { UInt32(min(timeoutSeconds * 1000, Double(UInt32.max))) }

    /// Connects to the daemon.
    func connect() throws(CLIError) -> EmbedClient {
        do { return try EmbedClient(socketPath: socketPath, clientName: "embedctl/0.1", timeoutSeconds: timeoutSeconds) } catch {
            throw .runtime(error.description)
        }
    }

    /// Connects, makes one call, and closes.
    func call<R: ProtoMessage>(_ method: MethodID, _ request: some ProtoMessage, _: R.Type) throws(CLIError) -> R {
        let client = try connect()
        defer { client.close() }
        do { return try client.call(method, request, as: R.self, deadlineMilliseconds: deadlineMilliseconds) } catch {
            throw .runtime(error.description)
        }
    }
}

enum OutputFormat: String, CaseIterable {
    case table, json
}

/// `--format table|json` (default table).
struct FormatOptions: ParsableArguments {
    var format: OutputFormat?

    static var arguments: [Argument<Self>] {
        [.option("--format", value: "FORMAT", help: "output format (default table)", \.format, .choice)]
    }

    var json: Bool { format == .json }
}

/// `add`'s and `search`'s files: `--file` (a path or a quoted glob, in command-line order with
/// the other inputs), `--mime` and `--send-bytes` (see `FileInputs`).
struct FileInputOptions: ParsableArguments {
    var files: [Ordered<String>] = []
    var mime: String?
    var sendBytes = false

    static var arguments: [Argument<Self>] {
        [
            .inOrder("--file", "-f", value: "PATH", help: "a file, or a quoted glob of files", \.files, .file),
            .option("--mime", value: "TYPE", help: "media type of every --file (default: from the extension)", \.mime, .string),
            .flag("--send-bytes", help: "read files here and send their bytes instead of descriptors", \.sendBytes),
        ]
    }
}

extension ValueParser where Value == String {
    /// A collection name (completed from the running daemon).
    static var collection: ValueParser { .string.completing(.dynamic(CompleteCommand.Names.collections.rawValue)) }
    /// A model name (completed from the running daemon).
    static var model: ValueParser { .string.completing(.dynamic(CompleteCommand.Names.models.rawValue)) }
    /// A model prompt name (completed from the prompts of the running daemon's models).
    static var prompt: ValueParser { .string.completing(.dynamic(CompleteCommand.Names.prompts.rawValue)) }
    /// A plugin name (completed from the running daemon's loaded plugins).
    static var plugin: ValueParser { .string.completing(.dynamic(CompleteCommand.Names.plugins.rawValue)) }
}
