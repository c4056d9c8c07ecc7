import EmbedCLI
import EmbedGateway
import EmbedSys

/// embedd-http's command tree: `serve` (the default) and `completion bash`.
enum EmbeddHTTP {
    static var root: Command {
        Command(name: "embedd-http", abstract: "An OpenAI- and TEI-compatible HTTP gateway to the embedd daemon.",
                discussion: """
                Without a command it serves (options as 'embedd-http serve --help' lists them).
                Exit status: 0 stopped by SIGTERM/SIGINT, 1 cannot start (the message says why), 2 usage error.
                Bash completion: source <(embedd-http completion bash).  Documentation: docs/http.md.
                """,
                options: ServeCommand.self,
                subcommands: [Command(ServeCommand.self),
                              Command(name: "completion", abstract: "Print a shell completion script.", options: NoOptions.self,
                                      subcommands: [Command(BashCompletionCommand.self)])],
                defaultSubcommand: "serve")
    }

    static func main(_ args: [String]) -> Int32 {
        if args == ["--version"] { print("embedd-http \(GatewayVersion.string)"); return 0 }
        let parser = ArgumentParser(root: root)
        do throws(CLIError) {
            switch try parser.parse(args) {
            case .help(let command, let path):
                print(command.help(path: path), terminator: "")
                return 0
            case .run(_, let run):
                try run()
                return 0
            }
        } catch {
            if !error.message.isEmpty { Log.line(error.message) }
            return error.exitCode
        }
    }
}

struct NoOptions: ParsableArguments {
    static var arguments: [Argument<Self>] { [] }
}

/// `embedd-http completion bash`.
struct BashCompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        name: "bash", abstract: "Print the bash completion script for embedd-http.",
        discussion: "Enable it: source <(embedd-http completion bash), or save it as /usr/share/bash-completion/completions/embedd-http.")
    static var arguments: [Argument<Self>] { [] }

    func run() throws(CLIError) {
        let executable = try? FileSystem.realPath("/proc/self/exe")
        print(BashCompletion.script(root: EmbeddHTTP.root, executable: executable), terminator: "")
    }
}
