/// What the parser found: option values, flags and positionals, plus their order on the
/// command line (so `embed a --file x b` embeds a, x, b in that order).
struct ParsedArguments {
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []
    /// (option primary name or "" for a positional, value) in command-line order.
    var ordered: [(String, String)] = []

    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }
    func has(_ name: String) -> Bool { flags.contains(name) }
}
