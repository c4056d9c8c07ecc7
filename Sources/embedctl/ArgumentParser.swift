/// Parses embedctl's command line against the command tree.
///
/// Rules: subcommands come first (`plugins load`); options may appear anywhere after them, as
/// `--opt VALUE` or `--opt=VALUE`; `--` ends options; unknown options and wrong counts are
/// usage errors (exit 2) that name the problem and point at `--help`.
struct ArgumentParser {
    let root: Command

    enum Outcome {
        case run(Command, [String], ParsedArguments)
        case help(Command, [String])
    }

    func parse(_ args: [String]) throws(CLIError) -> Outcome {
        var command = root
        var path = [root.name]
        var i = 0
        // Global options may come before the subcommand (`embedctl --socket S status`).
        var leading: [String] = []
        // Walk down the subcommands.
        while !command.subcommands.isEmpty, i < args.count {
            if args[i] == "--socket" || args[i] == "--timeout", i + 1 < args.count {
                leading += [args[i], args[i + 1]]
                i += 2
                continue
            }
            if args[i].hasPrefix("--socket=") || args[i].hasPrefix("--timeout=") {
                leading.append(args[i])
                i += 1
                continue
            }
            if args[i].hasPrefix("-") { break }
            guard let sub = command.subcommands.first(where: { $0.name == args[i] }) else {
                throw .usage("unknown command '\(args[i])' for '\(path.joined(separator: " "))' (expected one of: \(command.subcommands.map(\.name).joined(separator: ", ")))\nSee '\(path.joined(separator: " ")) --help'.")
            }
            command = sub
            path.append(sub.name)
            i += 1
        }
        let specs = command.options + Command.globalOptions
        var parsed = ParsedArguments()
        var onlyPositionals = false
        let args = leading + Array(args[i...])
        i = 0
        while i < args.count {
            let arg = args[i]
            i += 1
            if onlyPositionals || !arg.hasPrefix("-") || arg == "-" {
                parsed.positionals.append(arg)
                parsed.ordered.append(("", arg))
                continue
            }
            if arg == "--" { onlyPositionals = true; continue }
            var name = arg
            var inline: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                inline = String(arg[arg.index(after: eq)...])
            }
            guard let spec = specs.first(where: { $0.names.contains(name) }) else {
                if !command.subcommands.isEmpty && (name == "-h" || name == "--help") { return .help(command, path) }
                throw .usage("unknown option '\(name)' for '\(path.joined(separator: " "))'\nSee '\(path.joined(separator: " ")) --help'.")
            }
            if spec.primary == "-h" { return .help(command, path) }
            if let valueName = spec.valueName {
                let value: String
                if let inline { value = inline } else {
                    guard i < args.count else { throw .usage("\(name) needs a value (\(valueName))") }
                    value = args[i]
                    i += 1
                }
                if !spec.choices.isEmpty && !spec.choices.contains(value) {
                    throw .usage("\(name) must be one of \(spec.choices.joined(separator: ", ")) (got \"\(value)\")")
                }
                if !spec.repeatable, parsed.values[spec.primary] != nil {
                    throw .usage("\(name) given more than once")
                }
                parsed.values[spec.primary, default: []].append(value)
                parsed.ordered.append((spec.primary, value))
            } else {
                if inline != nil { throw .usage("\(name) takes no value") }
                parsed.flags.insert(spec.primary)
            }
        }
        if command.run == nil {
            if parsed.positionals.isEmpty { return .help(command, path) }
            throw .usage("unknown command '\(parsed.positionals[0])' for '\(path.joined(separator: " "))'\nSee '\(path.joined(separator: " ")) --help'.")
        }
        if parsed.positionals.count < command.minPositionals {
            throw .usage("'\(path.joined(separator: " "))' needs \(command.arguments)\nSee '\(path.joined(separator: " ")) --help'.")
        }
        if parsed.positionals.count > command.maxPositionals {
            let extra = parsed.positionals[command.maxPositionals]
            throw .usage("unexpected argument '\(extra)' for '\(path.joined(separator: " "))'\nSee '\(path.joined(separator: " ")) --help'.")
        }
        return .run(command, path, parsed)
    }
}
