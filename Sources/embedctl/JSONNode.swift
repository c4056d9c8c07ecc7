/// A parsed JSON value and the byte range it came from, for the store commands' JSON inputs
/// (`--metadata`, `--filter`, `--vector-json`, `--jsonl` lines).
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

    var kind: Kind
    /// Where the value lies in the parsed bytes.
    var range: Range<Int>

    /// A JSON syntax error: a message and the byte offset where it was found.
    struct SyntaxError: Error {
        var message: String
        var offset: Int

        /// 1-based line and column of `offset`.
        func position(in bytes: [UInt8]) -> (line: Int, column: Int) {
            var line = 1, col = 1
            for b in bytes[..<min(offset, bytes.count)] { if b == 0x0A { line += 1; col = 1 } else { col += 1 } }
            return (line, col)
        }

        /// "line L, column C: message" (line only shown for multi-line input, unless asked).
        func describe(in bytes: [UInt8], alwaysLine: Bool = false) -> String {
            let (line, col) = position(in: bytes)
            return alwaysLine || bytes.contains(0x0A) ? "line \(line), column \(col): \(message)" : "column \(col): \(message)"
        }
    }

    /// Parses one JSON document (surrounding whitespace allowed).
    static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> JSONNode {
        var p = Parser(bytes: bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw SyntaxError(message: "unexpected content after the value", offset: p.i) }
        return v
    }

    /// Parses `text`, turning a syntax error into a usage error that names `what` (e.g. "--metadata").
    static func parse(_ text: String, what: String) throws(CLIError) -> JSONNode {
        let bytes = Array(text.utf8)
        do { return try parse(bytes) } catch { throw .usage("\(what) is not valid JSON (\(error.describe(in: bytes)))") }
    }

    /// The JSON type's name, for error messages.
    var typeName: String {
        switch kind {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The member `name` of an object (nil for other kinds or when absent).
    subscript(_ name: String) -> JSONNode? {
        guard case .object(let members) = kind else { return nil }
        return members.first { $0.0 == name }?.1
    }

    /// The value as float32 components, or an error naming `what` and the bad element.
    func floats(what: String) throws(CLIError) -> [Float] {
        guard case .array(let items) = kind else { throw .usage("\(what) must be a JSON array of numbers, got \(typeName)") }
        var out: [Float] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .number(let text) = item.kind else { throw .usage("\(what): element \(i) is \(item.typeName), expected a number") }
            guard let f = Float(text), f.isFinite else { throw .usage("\(what): element \(i) (\(text)) is out of float32 range") }
            out.append(f)
        }
        if out.isEmpty { throw .usage("\(what) is an empty array") }
        return out
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0
        /// Deeper documents are refused instead of overflowing the stack.
        static let maxDepth = 256

        func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func skipSpace() {
            while let c = peek(), c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 }
        }

        func fail(_ m: String) -> SyntaxError { SyntaxError(message: m, offset: i) }

        mutating func literal(_ word: String, _ kind: Kind) throws(SyntaxError) -> JSONNode {
            let start = i
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { throw fail("unexpected character") }
            i += w.count
            return JSONNode(kind: kind, range: start..<i)
        }

        mutating func value(depth: Int) throws(SyntaxError) -> JSONNode {
            guard depth < Self.maxDepth else { throw fail("nested more than \(Self.maxDepth) levels deep") }
            guard let c = peek() else { throw fail("unexpected end of input") }
            let start = i
            switch c {
            case UInt8(ascii: "{"):
                i += 1
                var members: [(String, JSONNode)] = []
                var seen = Set<String>()
                skipSpace()
                if peek() == UInt8(ascii: "}") { i += 1; return JSONNode(kind: .object([]), range: start..<i) }
                while true {
                    skipSpace()
                    guard peek() == UInt8(ascii: "\"") else { throw fail("expected a member name in quotes") }
                    let nameAt = i
                    let name = try string()
                    guard seen.insert(name).inserted else { throw SyntaxError(message: "duplicate member \"\(name)\"", offset: nameAt) }
                    skipSpace()
                    guard peek() == UInt8(ascii: ":") else { throw fail("expected ':' after a member name") }
                    i += 1
                    skipSpace()
                    members.append((name, try value(depth: depth + 1)))
                    skipSpace()
                    if peek() == UInt8(ascii: ",") { i += 1; continue }
                    if peek() == UInt8(ascii: "}") { i += 1; break }
                    throw fail("expected ',' or '}'")
                }
                return JSONNode(kind: .object(members), range: start..<i)
            case UInt8(ascii: "["):
                i += 1
                var items: [JSONNode] = []
                skipSpace()
                if peek() == UInt8(ascii: "]") { i += 1; return JSONNode(kind: .array([]), range: start..<i) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    if peek() == UInt8(ascii: ",") { i += 1; continue }
                    if peek() == UInt8(ascii: "]") { i += 1; break }
                    throw fail("expected ',' or ']'")
                }
                return JSONNode(kind: .array(items), range: start..<i)
            case UInt8(ascii: "\""):
                let s = try string()
                return JSONNode(kind: .string(s), range: start..<i)
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default:
                return try number()
            }
        }

        /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func number() throws(SyntaxError) -> JSONNode {
            let start = i
            func digit(_ c: UInt8?) -> Bool { c.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
            if peek() == UInt8(ascii: "-") { i += 1 }
            guard digit(peek()) else { throw fail("unexpected character") }
            if peek() == UInt8(ascii: "0") { i += 1 } else { while digit(peek()) { i += 1 } }
            if peek() == UInt8(ascii: ".") {
                i += 1
                guard digit(peek()) else { throw fail("expected a digit after '.'") }
                while digit(peek()) { i += 1 }
            }
            if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
                i += 1
                if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { i += 1 }
                guard digit(peek()) else { throw fail("expected a digit in the exponent") }
                while digit(peek()) { i += 1 }
            }
            return JSONNode(kind: .number(String(decoding: bytes[start..<i], as: UTF8.self)), range: start..<i)
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
                throw fail("bad \\u escape")
            }
            i += 4
            return v
        }

        mutating func string() throws(SyntaxError) -> String {
            i += 1  // opening quote
            var out = String.UnicodeScalarView()
            var runStart = i
            func flush(_ p: Parser, _ from: Int, _ to: Int, _ out: inout String.UnicodeScalarView) throws(SyntaxError) {
                guard from < to else { return }
                guard let s = String(validating: p.bytes[from..<to], as: UTF8.self) else {
                    throw SyntaxError(message: "a string is not valid UTF-8", offset: from)
                }
                out.append(contentsOf: s.unicodeScalars)
            }
            while true {
                guard let c = peek() else { throw fail("unterminated string") }
                if c == UInt8(ascii: "\"") {
                    try flush(self, runStart, i, &out)
                    i += 1
                    return String(out)
                }
                if c < 0x20 { throw fail("control character in a string (escape it)") }
                if c != UInt8(ascii: "\\") { i += 1; continue }
                try flush(self, runStart, i, &out)
                i += 1
                guard let e = peek() else { throw fail("unterminated escape") }
                i += 1
                switch e {
                case UInt8(ascii: "\""): out.append("\"")
                case UInt8(ascii: "\\"): out.append("\\")
                case UInt8(ascii: "/"): out.append("/")
                case UInt8(ascii: "b"): out.append("\u{08}")
                case UInt8(ascii: "f"): out.append("\u{0C}")
                case UInt8(ascii: "n"): out.append("\n")
                case UInt8(ascii: "r"): out.append("\r")
                case UInt8(ascii: "t"): out.append("\t")
                case UInt8(ascii: "u"):
                    var v = try hex4()
                    if (0xD800..<0xDC00).contains(v) {
                        guard peek() == UInt8(ascii: "\\"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "u") else {
                            throw fail("lone surrogate in \\u escape")
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("bad surrogate pair") }
                        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(v) else { throw fail("invalid code point in \\u escape") }
                    out.append(u)
                default: throw fail("unknown escape \\\(Character(Unicode.Scalar(e)))")
                }
                runStart = i
            }
        }
    }
}
