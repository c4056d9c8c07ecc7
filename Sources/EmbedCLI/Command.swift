/// A node of the command tree: a leaf made from a `ParsableCommand` type, or a group of
/// subcommands (`plugins`, `collection`) with options of its own for help and hoisting.
package struct Command {
    package var name: String
    package var abstract: String
    package var discussion: String
    package var hidden: Bool
    /// Options, flags and positionals, flattened, in declaration order (no `--help`).
    package var arguments: [ArgumentInfo]
    package var subcommands: [Command]
    /// For a group: the subcommand that runs when none is named (`embedctl models` lists, as
    /// `embedctl models list` does); nil when a subcommand is required.
    package var defaultSubcommand: String?
    /// For a leaf: sets a fresh `C` from the parsed words, validates it, and returns its `run`.
    let prepare: ((_ words: [Word]) throws(CLIError) -> () throws(CLIError) -> Void)?

    /// One word of the command line, matched to the declaration at `entry`.
    struct Word {
        var entry: Int
        var value: String
        var position: Int
    }

    /// A leaf.
    package init<C: ParsableCommand>(_ type: C.Type) {
        let config = C.configuration
        let declarations = C.arguments
        let entries = declarations.flatMap(\.entries)
        name = config.name
        abstract = config.abstract
        discussion = config.discussion
        hidden = config.hidden
        arguments = entries.map(\.info)
        subcommands = []
        defaultSubcommand = nil
        prepare = { (words: [Word]) throws(CLIError) -> () throws(CLIError) -> Void in
            var command = C()
            for w in words { try entries[w.entry].set(&command, w.value, w.position) }
            for v in declarations.flatMap(\.validators) { try v.run(&command) }
            try command.validate()
            let ready = command
            return { () throws(CLIError) in try ready.run() }
        }
    }

    /// A group of subcommands. `Options` are shown in its help and may be given before a
    /// subcommand (`embedctl --socket S status`): each one taking a value is handed down to
    /// the subcommand, which must declare it too. With `defaultSubcommand`, the group alone (or
    /// followed by options) runs that subcommand.
    package init<Options: ParsableArguments>(name: String, abstract: String, discussion: String = "", options: Options.Type,
                                             subcommands: [Command], defaultSubcommand: String? = nil) {
        precondition(defaultSubcommand.map { d in subcommands.contains { $0.name == d } } ?? true, "no subcommand \(defaultSubcommand ?? "")")
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        hidden = false
        arguments = Options.argumentInfos
        self.subcommands = subcommands
        self.defaultSubcommand = defaultSubcommand
        prepare = nil
    }

    /// The subcommand a group runs when none is named.
    package var defaultCommand: Command? { defaultSubcommand.flatMap { d in subcommands.first { $0.name == d } } }

    /// The options a group takes for its default subcommand (`embedctl models --format json`),
    /// besides its own: shown in its help and completed.
    package var impliedOptions: [ArgumentInfo] {
        (defaultCommand?.options ?? []).filter { o in !options.contains { $0.names == o.names } }
    }

    package var isLeaf: Bool { prepare != nil }
    package var options: [ArgumentInfo] { arguments.filter { !$0.isPositional } }
    package var positionals: [ArgumentInfo] { arguments.filter(\.isPositional) }
    package var visibleSubcommands: [Command] { subcommands.filter { !$0.hidden } }

    /// The positionals as the usage line shows them: `NAME [TEXT...]`.
    package var argumentsUsage: String { positionals.map(\.usage).joined(separator: " ") }

    /// The declaration an option word names (`--help` included).
    package func option(named name: String) -> ArgumentInfo? {
        options.first { $0.names.contains(name) } ?? (ArgumentInfo.help.names.contains(name) ? ArgumentInfo.help : nil)
    }

    /// The help text of this command, reached through `path` (e.g. ["embedctl", "plugins"]).
    package func help(path: [String]) -> String {
        let fullName = path.joined(separator: " ")
        var out = "\(abstract)\n\nUsage: \(fullName)"
        if !subcommands.isEmpty { out += defaultSubcommand == nil ? " <subcommand>" : " [<subcommand>]" }
        out += " [OPTIONS]"
        if !argumentsUsage.isEmpty { out += " \(argumentsUsage)" }
        out += "\n"
        if !discussion.isEmpty { out += "\n\(discussion)\n" }
        if !visibleSubcommands.isEmpty {
            out += "\nSubcommands:\n"
            let w = visibleSubcommands.map(\.name.count).max() ?? 0
            for s in visibleSubcommands {
                out += "  \(s.name.padding(w))  \(s.abstract)\(s.name == defaultSubcommand ? " (the default)" : "")\n"
            }
        }
        let all = options + impliedOptions + [ArgumentInfo.help]
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
        if !subcommands.isEmpty { out += "\nSee '\(fullName) <subcommand> --help' for details.\n" }
        return out
    }

    /// Every node below (and including) this one with its path, depth first, hidden ones too.
    package func walk(path: [String] = []) -> [(path: [String], command: Command)] {
        let here = path + [name]
        return [(here, self)] + subcommands.flatMap { $0.walk(path: here) }
    }
}

extension String {
    package func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
