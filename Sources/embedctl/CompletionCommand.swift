import EmbedCLI
import EmbedClient
import EmbedSys
import EmbedWire

/// `embedctl completion bash`: prints the bash completion script, generated from the command
/// tree (`BashCompletion`), so it always matches this binary.
enum CompletionCommand {
    static var command: Command {
        Command(name: "completion", abstract: "Print a shell completion script.", options: ConnectionOptions.self, subcommands: [Command(Bash.self)])
    }

    struct Bash: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "bash", abstract: "Print the bash completion script for embedctl.",
            discussion: """
            Enable it in this shell:   source <(embedctl completion bash)
            or for every user:         embedctl completion bash > /usr/share/bash-completion/completions/embedctl

            It completes subcommands, options and their fixed values, file names, users and groups, and
            collection and model names from the running daemon (asked with --socket from the command
            line, else $EMBEDD_SOCKET; nothing is offered when it does not answer within 2 s). It is
            registered for 'embedctl' (so for any path ending in /embedctl) and for this binary's path.
            """)
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] { [.group(\.connection)] }

        func run() throws(CLIError) {
            let executable = try? FileSystem.realPath("/proc/self/exe")
            var names: [String] = []
            if let invoked = CommandLine.arguments.first?.split(separator: "/").last.map(String.init) { names.append(invoked) }
            Output.out(BashCompletion.script(root: EmbedCtl.root, executable: executable, alsoRegisterFor: names))
        }
    }
}

/// `embedctl __complete collections|models|prompts|plugins` (hidden): the names the completion script offers,
/// one per line, from the running daemon. Prints nothing and exits 0 when the daemon cannot be
/// reached or refuses, so completion never shows an error; waits at most 2 s.
struct CompleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(name: "__complete", abstract: "Print names for shell completion.", hidden: true)

    enum Names: String, CaseIterable {
        case collections, models, prompts, plugins
    }

    var names = Names.collections
    var connection = ConnectionOptions()
    static var arguments: [Argument<Self>] { [.argument("KIND", \.names, .choice), .group(\.connection)] }

    func run() throws(CLIError) {
        var connection = self.connection
        connection.timeout = min(connection.timeoutSeconds, 2)
        guard let client = try? connection.connect() else { return }
        defer { client.close() }
        let deadline = connection.deadlineMilliseconds
        switch names {
        case .collections:
            guard let r = try? client.call(.listCollections, ListCollectionsRequest(), as: ListCollectionsResponse.self, deadlineMilliseconds: deadline)
            else { return }
            for c in r.collections { Output.out(c.name + "\n") }
        case .models:
            guard let r = try? client.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self, deadlineMilliseconds: deadline)
            else { return }
            for m in r.models { Output.out(m.name + "\n") }
        case .prompts:
            guard let r = try? client.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self, deadlineMilliseconds: deadline)
            else { return }
            var seen = Set<String>()
            for name in r.models.flatMap({ $0.prompts.map(\.name) }) + ["none"] where seen.insert(name).inserted { Output.out(name + "\n") }
        case .plugins:
            guard let r = try? client.call(.listPlugins, ListPluginsRequest(), as: ListPluginsResponse.self, deadlineMilliseconds: deadline)
            else { return }
            for p in r.plugins { Output.out(p.name + "\n") }
        }
    }
}
