import EmbedCLI
import EmbedSys

/// embedctl's entry point: builds the command tree, parses, runs, maps errors to exit codes.
enum EmbedCtl {
    static let version = "0.1.0"

    /// What `embedctl` itself accepts besides a subcommand (for its help and completion).
    struct RootOptions: ParsableArguments {
        var version = false
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] { [.flag("--version", help: "print the version", \.version), .group(\.connection)] }
    }

    static var root: Command {
        Command(
            name: "embedctl", abstract: "Drive the embedd daemon from the shell.",
            discussion: """
            Exit status: 0 success, 1 server or runtime error (the message says which), 2 usage error.
            The socket comes from --socket, else $EMBEDD_SOCKET, else /run/embedd/embedd.sock.
            Bash completion: source <(embedctl completion bash)  (see 'embedctl completion bash --help').
            """,
            options: RootOptions.self,
            subcommands: [Command(Commands.Status.self), Commands.models, Commands.plugins, Command(EmbedCommand.Embed.self),
                          Command(ClassifyCommand.Classify.self),
                          PluginCheckCommand.command, Command(MetricsCommand.self)]
                + StoreCommands.all + [CompletionCommand.command, Command(CompleteCommand.self)]
        )
    }

    static func main(_ args: [String]) -> Int32 {
        let status = run(args)
        if let e = Output.stdoutFailure.withLock({ $0 }) {
            Output.err("embedctl: cannot write to standard output: \(e)\n")
            return status == 0 ? 1 : status
        }
        return status
    }

    private static func run(_ args: [String]) -> Int32 {
        if args == ["--version"] { Output.out("embedctl \(version)\n"); return 0 }
        let parser = ArgumentParser(root: root)
        do throws(CLIError) {
            switch try parser.parse(args) {
            case .help(let command, let path):
                Output.out(command.help(path: path))
                return 0
            case .run(_, let run):
                try run()
                return 0
            }
        } catch {
            if !error.message.isEmpty { Output.err("embedctl: \(error.message)\n") }
            return error.exitCode
        }
    }
}
