/// A JSON scalar, as used in metadata filters. Numbers compare by value (1 == 1.0).
public enum JSONValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    public var description: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .number(let d): return "\(d)"
        case .bool(let b): return "\(b)"
        case .null: return "null"
        }
    }
}
