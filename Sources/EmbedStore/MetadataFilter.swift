import EmbedJSON

/// A metadata filter: every condition must hold (AND); a condition holds when the record's
/// top-level field equals one of its values (`in`; one value is plain equality).
///
/// Records without the field, or whose field is an object or array, never match.
/// Example: `MetadataFilter().equals("lang", .string("en")).in("year", [.number(2023), .number(2024)])`.
public struct MetadataFilter: Sendable, Equatable {
    /// One field condition.
    public struct Condition: Sendable, Equatable {
        public var field: String
        public var anyOf: [MetadataValue]
        public init(field: String, anyOf: [MetadataValue]) {
            self.field = field
            self.anyOf = anyOf
        }
    }

    /// The conditions, all of which must hold.
    public var conditions: [Condition]

    public init(_ conditions: [Condition] = []) { self.conditions = conditions }

    /// Adds `field == value`.
    public func equals(_ field: String, _ value: MetadataValue) -> MetadataFilter {
        var copy = self
        copy.conditions.append(Condition(field: field, anyOf: [value]))
        return copy
    }

    /// Adds `field in values`.
    public func `in`(_ field: String, _ values: [MetadataValue]) -> MetadataFilter {
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
    ///
    /// On the filtered-search hot path: scans the object lazily, decoding only the members a
    /// condition names (strings are compared undecoded) and stopping once every condition holds.
    func matches(_ metadata: UnsafeRawBufferPointer) -> Bool {
        if conditions.isEmpty { return true }
        if metadata.isEmpty { return false }
        let conditions = self.conditions
        return withUnsafeTemporaryAllocation(of: Bool.self, capacity: conditions.count) { found in
            found.initialize(repeating: false)
            var remaining = conditions.count
            let ok = MetadataJSON.forEachTopLevelMember(in: metadata) { (s: inout JSONScanner, name) throws(JSONError) in
                var scanned: MetadataJSON.Scanned?? = nil
                for i in conditions.indices where !found[i] && s.string(name, equals: conditions[i].field) {
                    if scanned == nil { scanned = .some(try MetadataJSON.readScalar(&s)) }
                    if let value = scanned!, conditions[i].anyOf.contains(where: { value.equals($0, s) }) {
                        found[i] = true
                        remaining -= 1
                    }
                }
                if scanned == nil { try s.skipValue(depth: 1) }
                return remaining > 0
            }
            return ok && remaining == 0
        }
    }
}
