/// Parses a command line against the command tree: the one place where words become values.
///
/// Rules: subcommands come first (`plugins load`); options may appear anywhere after them, as
/// `--opt VALUE` or `--opt=VALUE`; `--` ends options; a group's options that take a value may
/// also come before its subcommand (`embedctl --socket S status`). Unknown options, missing
/// values, values outside an option's choices, an option given twice that is not repeatable,
/// wrong numbers of positionals, and a group without its subcommand (its help follows; unless the
/// group names a default subcommand, which then runs) are
/// usage errors (exit 2) naming the problem; `--help` is not an error. Then each value is
/// converted and stored in command-line order (a conversion error names the option), groups
/// validate, and the command validates.
package struct ArgumentParser {
    package let root: Command

    package init(root: Command) {
        self.root = root
    }

    package enum Outcome {
        /// Run this (already parsed and validated) command, reached through the path.
        case run([String], () throws(CLIError) -> Void)
        case help(Command, [String])
    }

    package func parse(_ args: [String]) throws(CLIError) -> Outcome {
        var command = root
        var path = [root.name]
        var i = 0
        // Options of the groups walked through, handed down to the subcommand.
        var leading: [String] = []
        while !command.subcommands.isEmpty, i < args.count {
            let arg = args[i]
            if let o = command.option(named: arg), o.takesValue, i + 1 < args.count {
                leading += [arg, args[i + 1]]
                i += 2
                continue
            }
            if let eq = arg.firstIndex(of: "="), arg.hasPrefix("--"), let o = command.option(named: String(arg[..<eq])), o.takesValue {
                leading.append(arg)
                i += 1
                continue
            }
            if arg.hasPrefix("-") { break }
            guard let sub = command.subcommands.first(where: { $0.name == arg }) else {
                let names = command.visibleSubcommands.map(\.name).joined(separator: ", ")
                throw .usage("unknown command '\(arg)' for '\(path.joined(separator: " "))' (expected one of: \(names))\nSee '\(path.joined(separator: " ")) --help'.")
            }
            command = sub
            path.append(sub.name)
            i += 1
        }
        // A group that runs a subcommand when none is named (`embedctl models [--format json]`);
        // `--help` still shows the group's own help.
        if !command.isLeaf, let d = command.defaultCommand,
           !args[i...].contains(where: { ArgumentInfo.help.names.contains($0) }), i == args.count || args[i].hasPrefix("-") {
            command = d
            path.append(d.name)
        }
        let fullName = path.joined(separator: " ")
        let seeHelp = "\nSee '\(fullName) --help'."
        let args = leading + Array(args[i...])

        // Match each word to a declaration.
        var words: [Command.Word] = []
        var positionals: [(value: String, position: Int)] = []
        var seen: Set<String> = []
        var onlyPositionals = false
        i = 0
        while i < args.count {
            let position = i
            let arg = args[i]
            i += 1
            if onlyPositionals || !arg.hasPrefix("-") || arg == "-" {
                positionals.append((arg, position))
                continue
            }
            if arg == "--" { onlyPositionals = true; continue }
            var name = arg
            var inline: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                inline = String(arg[arg.index(after: eq)...])
            }
            guard let entry = command.arguments.firstIndex(where: { !$0.isPositional && $0.names.contains(name) }) else {
                if ArgumentInfo.help.names.contains(name) { return .help(command, path) }
                throw .usage("unknown option '\(name)' for '\(fullName)'\(seeHelp)")
            }
            let spec = command.arguments[entry]
            if spec.takesValue {
                let value: String
                if let inline { value = inline } else {
                    guard i < args.count else { throw .usage("\(name) needs a value (\(spec.valueName ?? "VALUE"))") }
                    value = args[i]
                    i += 1
                }
                if !spec.choices.isEmpty && !spec.choices.contains(value) {
                    throw .usage("\(name) must be one of \(spec.choices.joined(separator: ", ")) (got \"\(value)\")")
                }
                if !spec.repeatable && !seen.insert(spec.primary).inserted {
                    throw .usage("\(name) given more than once")
                }
                words.append(Command.Word(entry: entry, value: value, position: position))
            } else {
                if inline != nil { throw .usage("\(name) takes no value") }
                words.append(Command.Word(entry: entry, value: "", position: position))
            }
        }

        guard let prepare = command.prepare else {
            // A group needs a subcommand: its help, as a usage error (exit 2), like git and kubectl.
            if positionals.isEmpty {
                let names = command.visibleSubcommands.map(\.name).joined(separator: ", ")
                throw .usage("'\(fullName)' needs a subcommand (one of: \(names))\n\n" + command.help(path: path))
            }
            throw .usage("unknown command '\(positionals[0].value)' for '\(fullName)'\(seeHelp)")
        }

        // Hand the positionals to their declarations, in order; required ones first served.
        let declared = command.arguments.indices.filter { command.arguments[$0].isPositional }
        func required(_ entry: Int) -> Int {
            switch command.arguments[entry].kind {
            case .positional(.one), .positional(.oneOrMore): return 1
            default: return 0
            }
        }
        let minimum = declared.map(required).reduce(0, +)
        if positionals.count < minimum { throw .usage("'\(fullName)' needs \(command.argumentsUsage)\(seeHelp)") }
        var next = 0
        for (n, entry) in declared.enumerated() {
            let left = positionals.count - next
            let stillNeeded = declared[(n + 1)...].map(required).reduce(0, +)
            let take: Int
            switch command.arguments[entry].kind {
            case .positional(.one): take = 1
            case .positional(.optional): take = left > stillNeeded ? 1 : 0
            default: take = max(left - stillNeeded, 0)
            }
            for p in positionals[next..<(next + take)] { words.append(Command.Word(entry: entry, value: p.value, position: p.position)) }
            next += take
        }
        if next < positionals.count {
            throw .usage("unexpected argument '\(positionals[next].value)' for '\(fullName)'\(seeHelp)")
        }

        words.sort { $0.position < $1.position }
        return .run(path, try prepare(words))
    }
}
