/// A YAML document as a small tree, each node remembering where it started in the file.
///
/// Built from libyaml's event stream by `YAMLParser`; the typed decoding in `Config` walks it
/// so that every error can name a line and column.
public indirect enum YAMLNode: Sendable, Equatable {
    /// A scalar's text; `plain` is false when it was quoted (so `"0660"` stays a string).
    case scalar(String, plain: Bool, Mark)
    /// A mapping's entries in file order.
    case mapping([(key: YAMLNode, value: YAMLNode)], Mark)
    /// A sequence's items.
    case sequence([YAMLNode], Mark)

    /// A 1-based position in the source.
    public struct Mark: Sendable, Equatable {
        public var line: Int
        public var column: Int
        public init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }
    }

    /// Where the node starts.
    public var mark: Mark {
        switch self {
        case .scalar(_, _, let m), .mapping(_, let m), .sequence(_, let m): return m
        }
    }

    /// A short name of the node's kind for error messages.
    public var kindName: String {
        switch self {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    /// True for a plain `~`, `null`, `Null`, `NULL` or empty scalar.
    public var isNull: Bool {
        if case .scalar(let s, let plain, _) = self, plain, ["", "~", "null", "Null", "NULL"].contains(s) { return true }
        return false
    }

    public static func == (a: YAMLNode, b: YAMLNode) -> Bool {
        switch (a, b) {
        case let (.scalar(x, p, m), .scalar(y, q, n)): return x == y && p == q && m == n
        case let (.sequence(x, m), .sequence(y, n)): return x == y && m == n
        case let (.mapping(x, m), .mapping(y, n)):
            return m == n && x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}
