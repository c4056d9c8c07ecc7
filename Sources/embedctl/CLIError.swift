/// A failure of an embedctl command, carrying its exit status.
///
/// Exit codes: 1 for server or runtime errors (the message says which), 2 for usage mistakes.
struct CLIError: Error, CustomStringConvertible {
    let exitCode: Int32
    let message: String

    static func usage(_ m: String) -> CLIError { CLIError(exitCode: 2, message: m) }
    static func runtime(_ m: String) -> CLIError { CLIError(exitCode: 1, message: m) }

    var description: String { message }
}
