import EmbedCLI
import EmbedJSON

/// A parsed JSON value together with the byte range it came from, for the store commands'
/// JSON inputs (`--metadata`, `--filter`, `--vector-json`, `--jsonl` lines): a view over
/// EmbedJSON's `JSONValue` and `JSONSpan`.
///
/// The range lets embedctl send a metadata object exactly as the user wrote it (the store
/// returns metadata byte for byte). Numbers keep their text so that nothing is rounded before
/// the caller decides what type it needs. No Foundation: embedctl starts in a few milliseconds.
struct JSONNode {
    enum Kind {
        case null
        case bool(Bool)
        /// The number's literal text, already checked against JSON's grammar.
        case number(String)
        case string(String)
        case array([JSONNode])
        /// Members in document order (duplicates are refused by the parser).
        case object([(String, JSONNode)])
    }

    let value: JSONValue
    let span: JSONSpan

    /// Where the value lies in the parsed bytes.
    var range: Range<Int> { span.range }

    /// The value's kind, with child nodes for arrays and objects.
    var kind: Kind {
        switch value {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n.text)
        case .string(let s): return .string(s)
        case .array(let items): return .array(zip(items, span.children).map { JSONNode(value: $0, span: $1) })
        case .object(let members):
            return .object(zip(members, span.children).map { ($0.0, JSONNode(value: $0.1, span: $1)) })
        }
    }

    /// What embedctl accepts: RFC 8259 with duplicate member names refused, nesting up to 256.
    static let options = JSONParseOptions(maxDepth: 256, duplicateKeys: .reject, invalidUnicode: .reject, numbers: .strict)

    /// Parses one JSON document (surrounding whitespace allowed).
    static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONNode {
        let (value, span) = try JSONValue.parseWithSpans(bytes, options: options)
        return JSONNode(value: value, span: span)
    }

    /// Parses `text`, turning a syntax error into a usage error that names `what` (e.g. "--metadata").
    static func parse(_ text: String, what: String) throws(CLIError) -> JSONNode {
        let bytes = Array(text.utf8)
        do { return try parse(bytes) } catch { throw .usage("\(what) is not valid JSON (\(error.describe(in: bytes)))") }
    }

    /// The JSON type's name, for error messages.
    var typeName: String { value.typeName }

    /// The member `name` of an object (nil for other kinds or when absent).
    subscript(_ name: String) -> JSONNode? {
        guard case .object(let members) = value, let i = members.firstIndex(where: { $0.0 == name }) else { return nil }
        return JSONNode(value: members[i].1, span: span.children[i])
    }

    /// The value as float32 components, or an error naming `what` and the bad element.
    func floats(what: String) throws(CLIError) -> [Float] {
        guard case .array(let items) = value else { throw .usage("\(what) must be a JSON array of numbers, got \(typeName)") }
        var out: [Float] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .number(let n) = item else { throw .usage("\(what): element \(i) is \(item.typeName), expected a number") }
            guard let f = Float(n.text), f.isFinite else { throw .usage("\(what): element \(i) (\(n.text)) is out of float32 range") }
            out.append(f)
        }
        if out.isEmpty { throw .usage("\(what) is an empty array") }
        return out
    }
}

extension JSONError {
    /// "line L, column C: message" (line only shown for multi-line input, unless asked).
    func describe(in bytes: [UInt8], alwaysLine: Bool = false) -> String {
        let (line, col) = location(in: bytes)
        return alwaysLine || bytes.contains(0x0A) ? "line \(line), column \(col): \(message)" : "column \(col): \(message)"
    }
}
