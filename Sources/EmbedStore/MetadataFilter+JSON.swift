import EmbedJSON

extension MetadataFilter {
    /// Parses a filter written as JSON: an object whose members must all hold (AND). A member's
    /// value is a scalar (equality), an array of scalars (any of), `{"$in": [...]}` or
    /// `{"$eq": scalar}`. Returns nil for empty or blank text (no filter).
    /// - Throws: `StoreError.invalidArgument` naming the problem and its byte offset.
    public init?(json text: String) throws(StoreError) {
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBytes { raw in Result { () throws(StoreError) in try MetadataFilter.conditions(raw) } }
        guard let parsed = try result.get() else { return nil }
        self.init(parsed)
    }

    private static func conditions(_ raw: UnsafeRawBufferPointer) throws(StoreError) -> [Condition]? {
        var p = JSONScanner(raw, options: MetadataJSON.options)
        p.skipWhitespace()
        if p.peek() == nil { return nil }
        guard p.consume(UInt8(ascii: "{")) else {
            throw .invalidArgument(#"filter must be a JSON object such as {"lang": "en"} or {"year": {"$in": [2023, 2024]}}"#)
        }
        var conditions: [Condition] = []
        p.skipWhitespace()
        if !p.consume(UInt8(ascii: "}")) {
            while true {
                p.skipWhitespace()
                guard p.peek() == UInt8(ascii: "\"") else { throw p.syntax("expected a field name in quotes") }
                let field = try p.lex { (p: inout JSONScanner) throws(JSONError) in try p.readString() }
                guard !field.isEmpty else { throw .invalidArgument("filter has an empty field name") }
                p.skipWhitespace()
                guard p.consume(UInt8(ascii: ":")) else { throw p.syntax("expected ':' after the field name") }
                p.skipWhitespace()
                conditions.append(Condition(field: field, anyOf: try p.filterValues(field)))
                p.skipWhitespace()
                if p.consume(UInt8(ascii: ",")) { continue }
                guard p.consume(UInt8(ascii: "}")) else { throw p.syntax("expected ',' or '}'") }
                break
            }
        }
        p.skipWhitespace()
        guard p.peek() == nil else { throw p.syntax("unexpected text after the filter object") }
        return conditions
    }
}

fileprivate extension JSONScanner {
    func syntax(_ message: String) -> StoreError { .invalidArgument("filter is not valid JSON: \(message) at byte \(offset)") }

    /// Runs one scanner step, turning its syntax error into the filter's.
    mutating func lex<T>(_ step: (inout JSONScanner) throws(JSONError) -> T) throws(StoreError) -> T {
        do { return try step(&self) } catch {
            throw .invalidArgument("filter is not valid JSON: \(error.message) at byte \(error.offset)")
        }
    }

    /// A scalar at the cursor, or nil (cursor unmoved) when the value is an object or array.
    mutating func scalar() throws(StoreError) -> MetadataValue? {
        guard let v = try lex({ (p: inout JSONScanner) throws(JSONError) in try p.readScalar() }) else { return nil }
        switch v {
        case .string(let s): return .string(s)
        case .number(let n): return .number(n.double!)  // the strict grammar always gives a Double
        case .bool(let b): return .bool(b)
        default: return .null
        }
    }

    /// The values a filter member accepts: `v`, `[v, ...]`, `{"$eq": v}` or `{"$in": [v, ...]}`.
    mutating func filterValues(_ field: String) throws(StoreError) -> [MetadataValue] {
        if let v = try scalar() { return [v] }
        if consume(UInt8(ascii: "[")) { return try scalarList(field) }
        _ = consume(UInt8(ascii: "{"))
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else {
            throw .invalidArgument(#"filter on '\#(field)': an operator object takes exactly one of "$eq" or "$in""#)
        }
        let op = try lex { (p: inout JSONScanner) throws(JSONError) in try p.readString() }
        skipWhitespace()
        guard consume(UInt8(ascii: ":")) else { throw syntax("expected ':' after \"\(op)\"") }
        skipWhitespace()
        let values: [MetadataValue]
        switch op {
        case "$eq":
            guard let v = try scalar() else {
                throw .invalidArgument("filter on '\(field)': \"$eq\" takes a string, number, boolean or null")
            }
            values = [v]
        case "$in":
            guard consume(UInt8(ascii: "[")) else { throw .invalidArgument("filter on '\(field)': \"$in\" takes an array") }
            values = try scalarList(field)
        default:
            throw .invalidArgument("filter on '\(field)': unknown operator '\(op)' (supported: $eq, $in)")
        }
        skipWhitespace()
        guard consume(UInt8(ascii: "}")) else {
            throw .invalidArgument(#"filter on '\#(field)': an operator object takes exactly one of "$eq" or "$in""#)
        }
        return values
    }

    /// The rest of an array (after its '[') of scalars; at least one.
    private mutating func scalarList(_ field: String) throws(StoreError) -> [MetadataValue] {
        var out: [MetadataValue] = []
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { throw .invalidArgument("filter on '\(field)': the list of values is empty") }
        while true {
            skipWhitespace()
            guard let v = try scalar() else {
                throw .invalidArgument("filter on '\(field)': values must be strings, numbers, booleans or null")
            }
            out.append(v)
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "]")) else { throw syntax("expected ',' or ']'") }
            return out
        }
    }
}

extension Record {
    /// Why `metadata` cannot be stored (it must be one JSON object), or nil when it can.
    public static func metadataProblem(_ metadata: String) -> String? {
        var copy = metadata
        return copy.withUTF8 { utf8 in
            do throws(StoreError) {
                try MetadataJSON.validateObject(UnsafeRawBufferPointer(utf8), key: "")
                return nil
            } catch {
                if case .invalidArgument(let message) = error { return message.replacingKeyPhrase() }
                return "\(error)"
            }
        }
    }
}

private extension String {
    /// validateObject's messages name a key ("metadata of key '' …"); here there is none.
    func replacingKeyPhrase() -> String {
        guard hasPrefix("metadata of key '' ") else { return self }
        return "metadata " + dropFirst("metadata of key '' ".count)
    }
}
