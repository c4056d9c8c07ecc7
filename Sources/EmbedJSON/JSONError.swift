/// A JSON syntax error: what was wrong or expected, and the byte offset where it was found.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was found or expected ("expected ',' or '}' after an object member").
    public var message: String
    /// Byte offset into the parsed input.
    public var offset: Int

    /// An error at `offset`.
    public init(_ message: String, at offset: Int) {
        self.message = message
        self.offset = offset
    }

    /// 1-based line and column (in bytes) of `offset` within `bytes`.
    public func location(in bytes: some Collection<UInt8>) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for b in bytes.prefix(offset) { if b == 0x0A { line += 1; column = 1 } else { column += 1 } }
        return (line, column)
    }

    /// "message at byte N".
    public var description: String { "\(message) at byte \(offset)" }
}
