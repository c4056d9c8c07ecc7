/// How lenient a parse is. `.strict` is RFC 8259; the other choices exist because some inputs
/// (model files written by other tools) are loaded even when slightly off.
public struct JSONParseOptions: Sendable, Equatable {
    /// What a repeated member name in one object does.
    public enum DuplicateKeys: Sendable, Equatable {
        /// Keep every member (lookups by name take the last), as most parsers do.
        case keepAll
        /// Refuse the document ("duplicate member \"x\"").
        case reject
    }

    /// What a string that is not valid Unicode does: invalid UTF-8, or an escaped lone surrogate.
    public enum InvalidUnicode: Sendable, Equatable {
        /// Refuse the document.
        case reject
        /// Load it with U+FFFD in place of each bad sequence.
        case replace
    }

    /// Which number spellings are accepted.
    public enum NumberSyntax: Sendable, Equatable {
        /// RFC 8259: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
        case strict
        /// Any run of digits, `.`, `e`, `E`, `+`, `-` with at least one digit that Swift's
        /// `Double(String)` accepts ("01", "+1", "1.", ".5" too).
        case permissive
    }

    /// Deepest nesting accepted: a value at depth `maxDepth` (the top-level value is at depth 0)
    /// is refused with an error, so hostile input cannot exhaust the stack.
    public var maxDepth: Int
    /// Repeated member names.
    public var duplicateKeys: DuplicateKeys
    /// Invalid UTF-8 and lone surrogates.
    public var invalidUnicode: InvalidUnicode
    /// Number spellings.
    public var numbers: NumberSyntax

    /// Options with every choice spelled out; the defaults are `.strict`.
    public init(maxDepth: Int = 128, duplicateKeys: DuplicateKeys = .keepAll,
                invalidUnicode: InvalidUnicode = .reject, numbers: NumberSyntax = .strict) {
        self.maxDepth = maxDepth
        self.duplicateKeys = duplicateKeys
        self.invalidUnicode = invalidUnicode
        self.numbers = numbers
    }

    /// RFC 8259, nesting up to 128, duplicate names kept.
    public static let strict = JSONParseOptions()
}
