/// A parsed JSON document (RFC 8259).
///
/// Objects keep their members in document order, duplicates included (what happens to a
/// duplicate name is the parser's `JSONParseOptions.duplicateKeys`); numbers keep their text,
/// so integers stay exact and nothing is rounded before the caller picks a type.
public enum JSONValue: Sendable, Equatable {
    /// JSON `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as written.
    case number(JSONNumber)
    /// A string, unescaped.
    case string(String)
    /// An array's elements in order.
    case array([JSONValue])
    /// An object's members in document order (duplicates kept; lookups take the last).
    case object([(String, JSONValue)])

    /// Structural equality: same kinds, same number text, same strings, members in the same order.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member `key` of an object: the last one of that name (nil for other kinds or a missing key).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.0 == key })?.1
    }

    /// The value as a string, or nil.
    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The value as a Bool, or nil.
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// The value as a number, or nil.
    public var number: JSONNumber? { if case .number(let n) = self { return n } else { return nil } }
    /// The value as an exact `Int`, or nil (also nil for fractions, exponents and out-of-range numbers).
    public var int: Int? { number?.int }
    /// The value as a Double (±infinity beyond its range), or nil.
    public var double: Double? { number?.double }
    /// The elements of an array, or nil.
    public var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    /// The members of an object in document order, or nil.
    public var members: [(String, JSONValue)]? { if case .object(let m) = self { return m } else { return nil } }
    /// Whether this is JSON `null`.
    public var isNull: Bool { if case .null = self { return true } else { return false } }
    /// Whether this is an array or an object.
    public var isContainer: Bool {
        switch self {
        case .array, .object: return true
        default: return false
        }
    }

    /// The kind's name with its article ("an object", "a number", "null"), for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
