/// Where one value of a parsed document lies in its bytes, with the same shape as the value:
/// `children` holds an array's elements or an object's member values, in order.
///
/// For callers that must pass part of the input on exactly as written (embedctl sends metadata
/// and filter values byte for byte) or point at an element in an error message.
public struct JSONSpan: Sendable, Equatable {
    /// The value's bytes (from its first to its last byte, no surrounding whitespace).
    public var range: Range<Int>
    /// Spans of the elements or member values; empty for scalars.
    public var children: [JSONSpan]

    /// A span over `range` with `children`.
    public init(range: Range<Int>, children: [JSONSpan] = []) {
        self.range = range
        self.children = children
    }
}

extension JSONValue {
    /// Parses `bytes` as one JSON document (whitespace around it allowed).
    /// - Throws: `JSONError` with the offset and what was expected there.
    public static func parse(_ bytes: UnsafeRawBufferPointer, options: JSONParseOptions = .strict) throws(JSONError) -> JSONValue {
        var p = TreeParser(JSONScanner(bytes, options: options), spans: false)
        return try p.document().0
    }

    /// Parses a byte array as one JSON document.
    public static func parse(_ bytes: [UInt8], options: JSONParseOptions = .strict) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(JSONError) in try parse(raw, options: options) } }
        return try result.get()
    }

    /// Parses the UTF-8 of `text` as one JSON document.
    public static func parse(_ text: String, options: JSONParseOptions = .strict) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8), options: options)
    }

    /// Parses `bytes` as one JSON document and also returns where each value lies.
    public static func parseWithSpans(_ bytes: [UInt8], options: JSONParseOptions = .strict) throws(JSONError) -> (JSONValue, JSONSpan) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) -> (JSONValue, JSONSpan) in
                var p = TreeParser(JSONScanner(raw, options: options), spans: true)
                return try p.document()
            }
        }
        return try result.get()
    }
}

/// Recursive descent over a `JSONScanner`, depth-bounded by `options.maxDepth`.
struct TreeParser {
    var s: JSONScanner
    let spans: Bool
    static let noSpan = JSONSpan(range: 0..<0)

    init(_ scanner: JSONScanner, spans: Bool) {
        s = scanner
        self.spans = spans
    }

    mutating func document() throws(JSONError) -> (JSONValue, JSONSpan) {
        s.skipWhitespace()
        let v = try value(depth: 0)
        s.skipWhitespace()
        guard s.isAtEnd else { throw s.error("unexpected \(s.describeNext()) after the JSON value (expected the end of input)") }
        return v
    }

    mutating func value(depth: Int) throws(JSONError) -> (JSONValue, JSONSpan) {
        guard depth < s.options.maxDepth else { throw s.error("nesting deeper than \(s.options.maxDepth) levels") }
        let start = s.offset
        switch s.peek() {
        case UInt8(ascii: "{"):
            s.offset += 1
            var members: [(String, JSONValue)] = []
            var children: [JSONSpan] = []
            var seen: Set<String> = []
            s.skipWhitespace()
            if !s.consume(UInt8(ascii: "}")) {
                while true {
                    s.skipWhitespace()
                    let nameAt = s.offset
                    let name = s.decode(try s.scanMemberName())
                    if s.options.duplicateKeys == .reject && !seen.insert(name).inserted {
                        throw JSONError("duplicate member \"\(name)\"", at: nameAt)
                    }
                    let (v, span) = try value(depth: depth + 1)
                    members.append((name, v))
                    if spans { children.append(span) }
                    s.skipWhitespace()
                    if s.consume(UInt8(ascii: ",")) { continue }
                    if s.consume(UInt8(ascii: "}")) { break }
                    throw s.error("expected ',' or '}' after an object member, found \(s.describeNext())")
                }
            }
            return (.object(members), spans ? JSONSpan(range: start..<s.offset, children: children) : Self.noSpan)
        case UInt8(ascii: "["):
            s.offset += 1
            var items: [JSONValue] = []
            var children: [JSONSpan] = []
            s.skipWhitespace()
            if !s.consume(UInt8(ascii: "]")) {
                while true {
                    s.skipWhitespace()
                    let (v, span) = try value(depth: depth + 1)
                    items.append(v)
                    if spans { children.append(span) }
                    s.skipWhitespace()
                    if s.consume(UInt8(ascii: ",")) { continue }
                    if s.consume(UInt8(ascii: "]")) { break }
                    throw s.error("expected ',' or ']' after an array element, found \(s.describeNext())")
                }
            }
            return (.array(items), spans ? JSONSpan(range: start..<s.offset, children: children) : Self.noSpan)
        case nil:
            throw s.error("unexpected end of input (expected a value)")
        default:
            let v = try s.readScalar()!
            return (v, spans ? JSONSpan(range: start..<s.offset) : Self.noSpan)
        }
    }
}
