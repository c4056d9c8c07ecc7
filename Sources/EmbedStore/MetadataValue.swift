/// A JSON scalar as metadata filters compare it: numbers by value (1 == 1.0, a Double, so
/// integers beyond 2^53 compare rounded), strings by their UTF-8 bytes.
public enum MetadataValue: Sendable, Hashable, CustomStringConvertible {
    /// A JSON string.
    case string(String)
    /// A JSON number, by value.
    case number(Double)
    /// `true` or `false`.
    case bool(Bool)
    /// JSON `null`.
    case null

    /// The value as JSON-like text (strings quoted, not escaped), for messages.
    public var description: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .number(let d): return "\(d)"
        case .bool(let b): return "\(b)"
        case .null: return "null"
        }
    }
}
