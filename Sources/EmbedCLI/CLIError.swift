/// A failure of a command, carrying its exit status.
///
/// Exit codes: 1 for server or runtime errors (the message says which), 2 for usage mistakes.
package struct CLIError: Error, CustomStringConvertible {
    package let exitCode: Int32
    package let message: String

    package init(exitCode: Int32, message: String) {
        self.exitCode = exitCode
        self.message = message
    }

    package static func usage(_ m: String) -> CLIError { CLIError(exitCode: 2, message: m) }
    package static func runtime(_ m: String) -> CLIError { CLIError(exitCode: 1, message: m) }

    package var description: String { message }
}
