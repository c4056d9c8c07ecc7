/// One option a command accepts: `--name VALUE` (or a flag when `valueName` is nil).
struct OptionSpec {
    var names: [String]
    var valueName: String?
    var help: String
    var repeatable = false
    /// Allowed values, checked by the parser and listed in help and completion.
    var choices: [String] = []

    var primary: String { names.first! }
}
