import EmbedJSON

extension MetadataFilter {
    /// Parses a filter written as JSON (docs/operations.md, "Filters"): an object whose members
    /// must all hold. A member is `"field": condition` — a scalar (equality), a list of scalars
    /// (any of) or an object of operators (`$eq $ne $gt $gte $lt $lte $in $nin $exists
    /// $contains $not`, all of which must hold) — or `"$and"`/`"$or"` with a list of filter
    /// objects, or `"$not"` with one. A field may be a dotted path into nested objects. The `$`
    /// may be left out of `in` and `eq`, as embedctl has always accepted. Returns nil for empty
    /// or blank text (no filter).
    /// - Throws: `StoreError.invalidArgument` naming the problem and its byte offset.
    public init?(json text: String) throws(StoreError) {
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBytes { raw in Result { () throws(StoreError) in try FilterParser.parse(raw) } }
        guard let root = try result.get() else { return nil }
        self.init(root)
    }
}

/// The filter language's parser: recursive descent over the text with `JSONScanner`, so that
/// every error can name the byte where it was found.
struct FilterParser {
    /// How deep `$and`/`$or`/`$not` may nest (a bound on the evaluator's recursion, far beyond
    /// any filter written by hand).
    static let maxDepth = 32

    static let fieldOperators = "$eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $contains, $not"

    var p: JSONScanner

    static func parse(_ raw: UnsafeRawBufferPointer) throws(StoreError) -> MetadataFilter.Node? {
        var parser = FilterParser(p: JSONScanner(raw, options: MetadataJSON.options))
        parser.p.skipWhitespace()
        if parser.p.peek() == nil { return nil }
        guard parser.p.peek() == UInt8(ascii: "{") else {
            throw .invalidArgument(#"filter must be a JSON object such as {"lang": "en"} or {"year": {"$gte": 2023}}"#
                                   + " at byte \(parser.p.offset)")
        }
        let root = try parser.object(depth: 0)
        parser.p.skipWhitespace()
        guard parser.p.isAtEnd else { throw parser.syntax("unexpected text after the filter object") }
        return root
    }

    // MARK: Grammar

    /// A filter object at the cursor: the AND of its members.
    private mutating func object(depth: Int) throws(StoreError) -> MetadataFilter.Node {
        if depth > Self.maxDepth { throw Self.error("filter nests deeper than \(Self.maxDepth) levels", at: p.offset) }
        _ = p.consume(UInt8(ascii: "{"))
        var members: [MetadataFilter.Node] = []
        p.skipWhitespace()
        if p.consume(UInt8(ascii: "}")) { return .and([]) }
        while true {
            p.skipWhitespace()
            members.append(try member(depth: depth))
            p.skipWhitespace()
            if p.consume(UInt8(ascii: ",")) { continue }
            guard p.consume(UInt8(ascii: "}")) else { throw syntax("expected ',' or '}'") }
            return .and(members)
        }
    }

    /// `"field": condition`, or `"$and"`/`"$or"`: [filters], or `"$not"`: filter.
    private mutating func member(depth: Int) throws(StoreError) -> MetadataFilter.Node {
        guard p.peek() == UInt8(ascii: "\"") else { throw syntax("expected a field name in quotes") }
        let at = p.offset
        let name = try lex { (p: inout JSONScanner) throws(JSONError) in try p.readString() }
        try colon(after: name)
        guard name.hasPrefix("$") else {
            if name.isEmpty { throw Self.error("filter has an empty field name", at: at) }
            return try condition(name, depth: depth)
        }
        let valueAt = p.offset
        switch name {
        case "$and", "$or":
            guard p.consume(UInt8(ascii: "[")) else { throw Self.error("filter: \"\(name)\" takes a list of filter objects", at: valueAt) }
            var list: [MetadataFilter.Node] = []
            p.skipWhitespace()
            if p.consume(UInt8(ascii: "]")) { throw Self.error("filter: \"\(name)\" has an empty list", at: valueAt) }
            while true {
                p.skipWhitespace()
                guard p.peek() == UInt8(ascii: "{") else {
                    throw Self.error("filter: the items of \"\(name)\" must be filter objects such as {\"lang\": \"en\"}", at: p.offset)
                }
                list.append(try object(depth: depth + 1))
                p.skipWhitespace()
                if p.consume(UInt8(ascii: ",")) { continue }
                guard p.consume(UInt8(ascii: "]")) else { throw syntax("expected ',' or ']'") }
                return name == "$and" ? .and(list) : .or(list)
            }
        case "$not":
            guard p.peek() == UInt8(ascii: "{") else { throw Self.error("filter: \"$not\" takes a filter object such as {\"lang\": \"en\"}", at: valueAt) }
            return .not(try object(depth: depth + 1))
        default:
            throw Self.error("filter: unknown operator '\(name)' (here: $and, $or, $not; the others go inside a field, "
                             + #"as in {"year": {"$gt": 2000}})"#, at: at)
        }
    }

    /// A field's condition at the cursor: a scalar (equality), a list (any of) or an object of
    /// operators (all must hold).
    private mutating func condition(_ field: String, depth: Int) throws(StoreError) -> MetadataFilter.Node {
        if depth > Self.maxDepth { throw Self.error("filter nests deeper than \(Self.maxDepth) levels", at: p.offset) }
        if let v = try scalar() { return .field(field, .eq(v)) }
        if p.consume(UInt8(ascii: "[")) { return .field(field, .in(try scalarList(field))) }
        let at = p.offset
        _ = p.consume(UInt8(ascii: "{"))
        p.skipWhitespace()
        if p.consume(UInt8(ascii: "}")) {
            throw Self.error("filter on '\(field)': the operator object is empty (write a value, a list or operators such as {\"$gt\": 1})", at: at)
        }
        var nodes: [MetadataFilter.Node] = []
        while true {
            p.skipWhitespace()
            guard p.peek() == UInt8(ascii: "\"") else { throw syntax("expected an operator name in quotes") }
            let opAt = p.offset
            let op = try lex { (p: inout JSONScanner) throws(JSONError) in try p.readString() }
            try colon(after: op)
            nodes.append(try self.operator(op, field, at: opAt, depth: depth))
            p.skipWhitespace()
            if p.consume(UInt8(ascii: ",")) { continue }
            guard p.consume(UInt8(ascii: "}")) else { throw syntax("expected ',' or '}'") }
            return nodes.count == 1 ? nodes[0] : .and(nodes)
        }
    }

    /// One operator of a field's operator object, the cursor at its operand.
    private mutating func `operator`(_ op: String, _ field: String, at: Int, depth: Int) throws(StoreError) -> MetadataFilter.Node {
        let valueAt = p.offset
        func fail(_ what: String) -> StoreError { Self.error("filter on '\(field)': \"\(op)\" takes \(what)", at: valueAt) }
        switch op {
        case "$eq", "eq", "$ne", "$contains":
            guard let v = try scalar() else { throw fail("a string, number, boolean or null") }
            return .field(field, op == "$ne" ? .ne(v) : op == "$contains" ? .contains(v) : .eq(v))
        case "$gt", "$gte", "$lt", "$lte":
            let v = try scalar()
            switch v {
            case .number?, .string?: break
            default: throw fail("a number or a string")
            }
            switch op {
            case "$gt": return .field(field, .gt(v!))
            case "$gte": return .field(field, .gte(v!))
            case "$lt": return .field(field, .lt(v!))
            default: return .field(field, .lte(v!))
            }
        case "$in", "in", "$nin":
            guard p.consume(UInt8(ascii: "[")) else { throw fail("an array") }
            let values = try scalarList(field)
            return .field(field, op == "$nin" ? .nin(values) : .in(values))
        case "$exists":
            guard case .bool(let b)? = try scalar() else { throw fail("true or false") }
            return .field(field, .exists(b))
        case "$not":
            return .not(try condition(field, depth: depth + 1))
        default:
            let hint = op.hasPrefix("$") ? "" : #"; for a field inside an object write "\#(field).\#(op)""#
            throw Self.error("filter on '\(field)': unknown operator '\(op)' (supported: \(Self.fieldOperators)\(hint))", at: at)
        }
    }

    // MARK: Tokens

    /// A scalar at the cursor, or nil (cursor unmoved) when the value is an object or array.
    private mutating func scalar() throws(StoreError) -> MetadataValue? {
        guard let v = try lex({ (p: inout JSONScanner) throws(JSONError) in try p.readScalar() }) else { return nil }
        switch v {
        case .string(let s): return .string(s)
        case .number(let n): return .number(n.double!)  // the strict grammar always gives a Double
        case .bool(let b): return .bool(b)
        default: return .null
        }
    }

    /// The rest of an array (after its '[') of scalars; at least one.
    private mutating func scalarList(_ field: String) throws(StoreError) -> [MetadataValue] {
        var out: [MetadataValue] = []
        p.skipWhitespace()
        if p.peek() == UInt8(ascii: "]") { throw Self.error("filter on '\(field)': the list of values is empty", at: p.offset) }
        while true {
            p.skipWhitespace()
            let at = p.offset
            guard let v = try scalar() else {
                throw Self.error("filter on '\(field)': values must be strings, numbers, booleans or null", at: at)
            }
            out.append(v)
            p.skipWhitespace()
            if p.consume(UInt8(ascii: ",")) { continue }
            guard p.consume(UInt8(ascii: "]")) else { throw syntax("expected ',' or ']'") }
            return out
        }
    }

    private mutating func colon(after name: String) throws(StoreError) {
        p.skipWhitespace()
        guard p.consume(UInt8(ascii: ":")) else { throw syntax("expected ':' after \"\(name)\"") }
        p.skipWhitespace()
    }

    /// Runs one scanner step, turning its syntax error into the filter's.
    private mutating func lex<T>(_ step: (inout JSONScanner) throws(JSONError) -> T) throws(StoreError) -> T {
        do { return try step(&p) } catch {
            throw .invalidArgument("filter is not valid JSON: \(error.message) at byte \(error.offset)")
        }
    }

    private func syntax(_ message: String) -> StoreError { .invalidArgument("filter is not valid JSON: \(message) at byte \(p.offset)") }

    private static func error(_ message: String, at offset: Int) -> StoreError { .invalidArgument("\(message) at byte \(offset)") }
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
