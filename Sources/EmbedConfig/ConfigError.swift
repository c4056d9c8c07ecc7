/// A configuration problem, located in its file.
///
/// `description` reads `FILE:LINE:COLUMN: message`, the format editors and compilers use, so
/// a user can jump straight to the offending spot. Line and column are 1-based.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file the problem is in (or a label such as `<command line>`).
    public var file: String
    /// 1-based line; 0 when the problem has no position (e.g. the file cannot be read).
    public var line: Int
    /// 1-based column; 0 when unknown.
    public var column: Int
    /// What is wrong, phrased for the person editing the file.
    public var message: String

    /// Creates an error at a position.
    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }
}
