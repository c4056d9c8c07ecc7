import EmbedSys

/// embedctl's entry point: builds the command tree, parses, runs, maps errors to exit codes.
enum EmbedCtl {
    static let version = "0.1.0"

    static var root: Command {
        Command(
            name: "embedctl", abstract: "Drive the embedd daemon from the shell.",
            discussion: """
            Exit status: 0 success, 1 server or runtime error (the message says which), 2 usage error.
            The socket comes from --socket, else $EMBEDD_SOCKET, else /run/embedd/embedd.sock.
            """,
            options: [OptionSpec(names: ["--version"], valueName: nil, help: "print the version")],
            subcommands: [Commands.status, Commands.models, Commands.plugins, EmbedCommand.command, PluginCheckCommand.command]
                + StoreCommands.all
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
            case .run(let command, _, let parsed):
                let global = try GlobalOptions(parsed)
                try command.run!(parsed, global)
                return 0
            }
        } catch {
            if !error.message.isEmpty { Output.err("embedctl: \(error.message)\n") }
            return error.exitCode
        }
    }
}
