import EmbedStore

/// Turns a Search call's `filter` text into the store's `MetadataFilter`.
///
/// The filter is a JSON object; every member must hold (AND). A member's value is a scalar
/// (equality), an array of scalars (any of), `{"$in": [...]}` or `{"$eq": scalar}`.
/// Comparisons apply to top-level metadata fields; numbers compare by value (1 == 1.0).
enum SearchFilter {
    /// nil for an empty filter text.
    static func parse(_ text: String) throws(RPCError) -> MetadataFilter? {
        if text.allSatisfy({ $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) { return nil }
        let json: JSONText
        do { json = try JSONText.parse(text) } catch {
            throw RPCError(.invalidArgument, "filter is not valid JSON: \(error)")
        }
        guard case .object(let members) = json else {
            throw RPCError(.invalidArgument, #"filter must be a JSON object such as {"lang": "en"} or {"year": {"$in": [2023, 2024]}}"#)
        }
        var filter = MetadataFilter()
        for (field, value) in members {
            guard !field.isEmpty else { throw RPCError(.invalidArgument, "filter has an empty field name") }
            filter = filter.in(field, try values(field, value))
        }
        return filter
    }

    private static func values(_ field: String, _ v: JSONText) throws(RPCError) -> [JSONValue] {
        switch v {
        case .array(let items):
            return try scalars(field, items)
        case .object(let ops):
            guard ops.count == 1, let (op, arg) = ops.first else {
                throw RPCError(.invalidArgument, "filter on '\(field)': an operator object takes exactly one of \"$eq\" or \"$in\"")
            }
            switch op {
            case "$eq":
                guard let s = arg.scalar else { throw RPCError(.invalidArgument, "filter on '\(field)': \"$eq\" takes a string, number, boolean or null") }
                return [s]
            case "$in":
                guard case .array(let items) = arg else { throw RPCError(.invalidArgument, "filter on '\(field)': \"$in\" takes an array") }
                return try scalars(field, items)
            default:
                throw RPCError(.invalidArgument, "filter on '\(field)': unknown operator '\(op)' (supported: $eq, $in)")
            }
        default:
            return [v.scalar!]
        }
    }

    private static func scalars(_ field: String, _ items: [JSONText]) throws(RPCError) -> [JSONValue] {
        guard !items.isEmpty else { throw RPCError(.invalidArgument, "filter on '\(field)': the list of values is empty") }
        var out: [JSONValue] = []
        for item in items {
            guard let s = item.scalar else {
                throw RPCError(.invalidArgument, "filter on '\(field)': values must be strings, numbers, booleans or null")
            }
            out.append(s)
        }
        return out
    }
}
