/// Header fields in the order received, with case-insensitive lookup by name (RFC 9110 §5.1).
/// Names keep the spelling they arrived with; values have their surrounding whitespace removed.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}
    public init(_ fields: [(String, String)]) { for (n, v) in fields { append(n, v) } }
    public init(dictionaryLiteral elements: (String, String)...) { for (n, v) in elements { append(n, v) } }

    public static func == (a: HTTPHeaders, b: HTTPHeaders) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public var count: Int { fields.count }
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    /// Adds a field (a repeated name adds another field, it never replaces).
    public mutating func append(_ name: String, _ value: String) { fields.append((name, value)) }

    /// Replaces every field named `name` by one with `value`.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        append(name, value)
    }

    /// Removes every field named `name`.
    public mutating func remove(_ name: String) { fields.removeAll { Self.sameName($0.name, name) } }

    /// The first value of `name`, or nil.
    public subscript(_ name: String) -> String? { fields.first { Self.sameName($0.name, name) }?.value }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] { fields.filter { Self.sameName($0.name, name) }.map(\.value) }

    /// The comma-separated tokens of every `name` field, lower-cased and trimmed
    /// (`Connection: keep-alive, Upgrade` → ["keep-alive", "upgrade"]).
    public func tokens(_ name: String) -> [String] {
        values(name).flatMap { $0.split(separator: ",") }.map { HTTPSyntax.trim(Substring($0)).lowercased() }.filter { !$0.isEmpty }
    }

    /// Whether the `name` field lists `token` (case-insensitive).
    public func contains(_ name: String, token: String) -> Bool { tokens(name).contains(token.lowercased()) }

    /// ASCII case-insensitive comparison of two field names.
    static func sameName(_ a: String, _ b: String) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        for (p, q) in zip(x, y) where p != q {
            guard HTTPSyntax.lower(p) == HTTPSyntax.lower(q) else { return false }
        }
        return true
    }
}
