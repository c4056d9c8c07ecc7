/// A metadata filter: every condition must hold (AND); a condition holds when the record's
/// top-level field equals one of its values (`in`; one value is plain equality).
///
/// Records without the field, or whose field is an object or array, never match.
/// Example: `MetadataFilter().equals("lang", .string("en")).in("year", [.number(2023), .number(2024)])`.
public struct MetadataFilter: Sendable, Equatable {
    /// One field condition.
    public struct Condition: Sendable, Equatable {
        public var field: String
        public var anyOf: [JSONValue]
        public init(field: String, anyOf: [JSONValue]) {
            self.field = field
            self.anyOf = anyOf
        }
    }

    /// The conditions, all of which must hold.
    public var conditions: [Condition]

    public init(_ conditions: [Condition] = []) { self.conditions = conditions }

    /// Adds `field == value`.
    public func equals(_ field: String, _ value: JSONValue) -> MetadataFilter {
        var copy = self
        copy.conditions.append(Condition(field: field, anyOf: [value]))
        return copy
    }

    /// Adds `field in values`.
    public func `in`(_ field: String, _ values: [JSONValue]) -> MetadataFilter {
        var copy = self
        copy.conditions.append(Condition(field: field, anyOf: values))
        return copy
    }

    func validate() throws(StoreError) {
        for c in conditions {
            if c.field.isEmpty { throw .invalidArgument("filter field name is empty") }
            if c.anyOf.isEmpty { throw .invalidArgument("filter on '\(c.field)' has no values") }
        }
    }

    /// Whether `metadata` (UTF-8 JSON object bytes, possibly empty for "none") matches.
    func matches(_ metadata: UnsafeRawBufferPointer) -> Bool {
        if conditions.isEmpty { return true }
        if metadata.isEmpty { return false }
        var found = [Bool](repeating: false, count: conditions.count)
        var remaining = conditions.count
        let ok = JSONScanner.forEachTopLevelScalar(in: metadata) { name, value in
            for (i, c) in conditions.enumerated() where !found[i] && c.field.utf8.elementsEqual(name.utf8) {
                if let value, c.anyOf.contains(where: { JSONScanner.equal($0, value) }) {
                    found[i] = true
                    remaining -= 1
                }
            }
            return remaining > 0
        }
        return ok && remaining == 0
    }
}
