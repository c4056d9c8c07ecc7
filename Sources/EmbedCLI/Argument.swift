/// What one declaration looks like from outside: enough for the parser's checks, for help and
/// for completion. (`Argument` pairs it with the typed setter.)
package struct ArgumentInfo: Sendable {
    package enum Kind: Equatable, Sendable {
        /// `--name VALUE` or `--name=VALUE`.
        case option
        /// `--name`, no value.
        case flag
        /// A positional argument.
        case positional(Arity)
    }

    package enum Arity: Equatable, Sendable {
        case one, optional, many, oneOrMore
    }

    package var kind: Kind
    /// Option spellings, the first being the one messages use (`["--file", "-f"]`); empty for
    /// a positional.
    package var names: [String]
    /// `PATH` in `--file PATH`, or the positional's name (`NAME`); nil for a flag.
    package var valueName: String?
    package var help: String
    /// May be given more than once (fills an array).
    package var repeatable: Bool
    /// The only values accepted, checked before anything is converted; listed in help.
    package var choices: [String]
    package var completion: Completion

    /// The spelling that messages use.
    package var primary: String { names.first ?? valueName ?? "" }
    package var takesValue: Bool { kind == .option }
    package var isPositional: Bool { if case .positional = kind { return true } else { return false } }

    /// How the positional appears in a usage line: `NAME`, `[NAME]`, `[TEXT...]`, `KEY...`.
    package var usage: String {
        let name = valueName ?? ""
        switch kind {
        case .positional(.one): return name
        case .positional(.optional): return "[\(name)]"
        case .positional(.many): return "[\(name)...]"
        case .positional(.oneOrMore): return "\(name)..."
        default: return name
        }
    }

    /// `--help`, accepted by every command and listed last.
    package static let help = ArgumentInfo(kind: .flag, names: ["-h", "--help"], valueName: nil, help: "show help for this command",
                                           repeatable: false, choices: [], completion: .none)
}

/// How the completion script completes a value.
package enum Completion: Equatable, Sendable {
    case none
    case file
    case directory
    /// Files matching a glob (and directories, to walk into): `*.so`.
    case fileMatching(String)
    /// A fixed list (an enum-like option's values).
    case words([String])
    case user
    case group
    /// Names the script asks the program for: it runs `PROGRAM __complete KIND` (with the
    /// command line's `--socket`), which prints one name per line.
    case dynamic(String)
}

/// One declaration of a `ParsableArguments` type: an option, flag, positional or group, with the
/// setter that converts a word and stores it through a key path.
package struct Argument<Root> {
    package typealias Setter = (inout Root, _ value: String, _ position: Int) throws(CLIError) -> Void

    package struct Entry {
        package let info: ArgumentInfo
        package let set: Setter
    }

    /// One entry, or a group's entries (lifted to `Root`).
    package let entries: [Entry]
    /// A group's `validate()`, lifted to `Root` (inout only to share the setters' shape).
    package let validators: [Check]

    package struct Check {
        package let run: (inout Root) throws(CLIError) -> Void
    }

    init(_ info: ArgumentInfo, _ set: @escaping Setter) {
        entries = [Entry(info: info, set: set)]
        validators = []
    }

    private init(entries: [Entry], validators: [Check]) {
        self.entries = entries
        self.validators = validators
    }

    private static func info<V>(_ kind: ArgumentInfo.Kind, _ names: [String], _ valueName: String?, _ help: String,
                                repeatable: Bool, _ parser: ValueParser<V>) -> ArgumentInfo {
        if case .positional = kind {} else { precondition(!names.isEmpty, "an option needs a name") }
        return ArgumentInfo(kind: kind, names: names, valueName: valueName, help: help, repeatable: repeatable,
                            choices: parser.choices, completion: parser.completion)
    }

    // MARK: Options and flags

    /// `--name VALUE`, at most once; the field stays nil when it is not given.
    package static func option<V>(_ names: String..., value: String, help: String,
                                  _ key: WritableKeyPath<Root, V?>, _ parser: ValueParser<V>) -> Argument {
        let name = names[0]
        return Argument(info(.option, names, value, help, repeatable: false, parser)) { (root, text, _) throws(CLIError) in
            root[keyPath: key] = try parser.convert(text, name)
        }
    }

    /// `--name VALUE`, any number of times, in order.
    package static func repeated<V>(_ names: String..., value: String, help: String,
                                    _ key: WritableKeyPath<Root, [V]>, _ parser: ValueParser<V>) -> Argument {
        let name = names[0]
        return Argument(info(.option, names, value, help, repeatable: true, parser)) { (root, text, _) throws(CLIError) in
            root[keyPath: key].append(try parser.convert(text, name))
        }
    }

    /// `--name VALUE`, remembering where each stood among the other inputs (`Ordered`).
    /// With `repeatable: false` it may be given once.
    package static func inOrder<V>(_ names: String..., value: String, help: String, repeatable: Bool = true,
                                   _ key: WritableKeyPath<Root, [Ordered<V>]>, _ parser: ValueParser<V>) -> Argument {
        let name = names[0]
        return Argument(info(.option, names, value, help, repeatable: repeatable, parser)) { (root, text, position) throws(CLIError) in
            root[keyPath: key].append(Ordered(position: position, value: try parser.convert(text, name)))
        }
    }

    /// `--name`: sets the field to true.
    package static func flag(_ names: String..., help: String, _ key: WritableKeyPath<Root, Bool>) -> Argument {
        Argument(info(.flag, names, nil, help, repeatable: false, ValueParser<Bool>.flag)) { (root, _, _) throws(CLIError) in
            root[keyPath: key] = true
        }
    }

    // MARK: Positionals (taken in declaration order)

    /// A required positional.
    package static func argument<V>(_ name: String, _ key: WritableKeyPath<Root, V>, _ parser: ValueParser<V>) -> Argument {
        Argument(info(.positional(.one), [], name, "", repeatable: false, parser)) { (root, text, _) throws(CLIError) in
            root[keyPath: key] = try parser.convert(text, name)
        }
    }

    /// An optional positional: nil when it is not given.
    package static func optionalArgument<V>(_ name: String, _ key: WritableKeyPath<Root, V?>, _ parser: ValueParser<V>) -> Argument {
        Argument(info(.positional(.optional), [], name, "", repeatable: false, parser)) { (root, text, _) throws(CLIError) in
            root[keyPath: key] = try parser.convert(text, name)
        }
    }

    /// The remaining positionals (`[TEXT...]`, or `KEY...` with `atLeastOne`).
    package static func arguments<V>(_ name: String, atLeastOne: Bool = false, _ key: WritableKeyPath<Root, [V]>,
                                     _ parser: ValueParser<V>) -> Argument {
        Argument(info(.positional(atLeastOne ? .oneOrMore : .many), [], name, "", repeatable: true, parser)) {
            (root, text, _) throws(CLIError) in
            root[keyPath: key].append(try parser.convert(text, name))
        }
    }

    /// The remaining positionals, remembering where each stood among the other inputs.
    package static func argumentsInOrder<V>(_ name: String, _ key: WritableKeyPath<Root, [Ordered<V>]>,
                                            _ parser: ValueParser<V>) -> Argument {
        Argument(info(.positional(.many), [], name, "", repeatable: true, parser)) { (root, text, position) throws(CLIError) in
            root[keyPath: key].append(Ordered(position: position, value: try parser.convert(text, name)))
        }
    }

    // MARK: Groups

    /// Every declaration of `G`, filling the field at `key` (swift-argument-parser's
    /// `@OptionGroup`); `G.validate()` runs before the command's own.
    package static func group<G: ParsableArguments>(_ key: WritableKeyPath<Root, G>) -> Argument {
        let members = G.arguments
        let entries = members.flatMap(\.entries).map { entry in
            Entry(info: entry.info) { (root: inout Root, text: String, position: Int) throws(CLIError) in
                try entry.set(&root[keyPath: key], text, position)
            }
        }
        var validators: [Check] = members.flatMap(\.validators).map { inner in
            Check { (root: inout Root) throws(CLIError) in try inner.run(&root[keyPath: key]) }
        }
        validators.append(Check { (root: inout Root) throws(CLIError) in try root[keyPath: key].validate() })
        return Argument(entries: entries, validators: validators)
    }
}
