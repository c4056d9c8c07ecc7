/// A node of embedctl's command tree, shaped like swift-argument-parser's `CommandConfiguration`:
/// a name, an abstract, its options and positionals, subcommands, and a body.
struct Command {
    var name: String
    var abstract: String
    var discussion: String = ""
    var arguments: String = ""          // e.g. "[TEXT...]" for the usage line
    var options: [OptionSpec] = []
    var minPositionals = 0
    var maxPositionals = 0
    var subcommands: [Command] = []
    var run: ((ParsedArguments, GlobalOptions) throws(CLIError) -> Void)?

    /// Options every command accepts.
    static let globalOptions: [OptionSpec] = [
        OptionSpec(names: ["--socket"], valueName: "PATH", help: "daemon socket (default: $EMBEDD_SOCKET, else /run/embedd/embedd.sock)"),
        OptionSpec(names: ["--timeout"], valueName: "SECONDS", help: "give up waiting for the daemon after this long (default 120)"),
        OptionSpec(names: ["-h", "--help"], valueName: nil, help: "show help for this command"),
    ]

    /// The help text of this command, reached through `path` (e.g. ["embedctl", "plugins"]).
    func help(path: [String]) -> String {
        var out = "\(abstract)\n\nUsage: \((path).joined(separator: " "))"
        if !subcommands.isEmpty { out += " <subcommand>" }
        if !options.isEmpty { out += " [OPTIONS]" }
        if !arguments.isEmpty { out += " \(arguments)" }
        out += "\n"
        if !discussion.isEmpty { out += "\n\(discussion)\n" }
        if !subcommands.isEmpty {
            out += "\nSubcommands:\n"
            let w = subcommands.map(\.name.count).max() ?? 0
            for s in subcommands { out += "  \(s.name.padding(w))  \(s.abstract)\n" }
        }
        let all = options + Command.globalOptions
        out += "\nOptions:\n"
        let labels = all.map { o -> String in
            o.names.joined(separator: ", ") + (o.valueName.map { " \($0)" } ?? "")
        }
        let w = labels.map(\.count).max() ?? 0
        for (o, label) in zip(all, labels) {
            var line = "  \(label.padding(w))  \(o.help)"
            if !o.choices.isEmpty { line += " (\(o.choices.joined(separator: "|")))" }
            if o.repeatable { line += " [repeatable]" }
            out += line + "\n"
        }
        if !subcommands.isEmpty { out += "\nSee '\(path.joined(separator: " ")) <subcommand> --help' for details.\n" }
        return out
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
