/// A cursor over UTF-8 JSON bytes: the one lexer behind `JSONValue.parse`, and a lazy reader for
/// hot paths that need a few top-level members without building a tree (the store's metadata
/// filters). Strings can be scanned without being decoded (`scanString`) and compared to a
/// Swift string byte for byte (`string(_:equals:)`); values can be skipped (`skipValue`).
///
/// Every method either consumes a well-formed token or throws a `JSONError` naming what was
/// expected at the offset where it went wrong.
public struct JSONScanner {
    /// The input.
    public let bytes: UnsafeRawBufferPointer
    /// The cursor: the offset of the next unread byte.
    public var offset: Int
    /// What is accepted (nesting, numbers, invalid Unicode; duplicates only matter to `JSONValue.parse`).
    public let options: JSONParseOptions

    /// A scanner at the start of `bytes`.
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer, options: JSONParseOptions = .strict) {
        self.bytes = bytes
        self.offset = 0
        self.options = options
    }

    /// A string token: where its content lies (between the quotes) and whether it holds escapes.
    public struct StringToken: Sendable, Equatable {
        /// The bytes between the quotes.
        public var content: Range<Int>
        /// Whether `content` contains backslash escapes (if not, the content is the value's UTF-8).
        public var hasEscapes: Bool

        /// A token for `content`.
        @inlinable
        public init(content: Range<Int>, hasEscapes: Bool) {
            self.content = content
            self.hasEscapes = hasEscapes
        }
    }

    // MARK: Cursor

    /// The next byte, or nil at the end.
    @inlinable
    public func peek() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

    /// Whether the whole input has been read.
    @inlinable
    public var isAtEnd: Bool { offset >= bytes.count }

    /// Consumes `byte` if it is next.
    @inlinable
    public mutating func consume(_ byte: UInt8) -> Bool {
        if offset < bytes.count && bytes[offset] == byte { offset += 1; return true }
        return false
    }

    /// Skips JSON whitespace (space, tab, line feed, carriage return).
    @inlinable
    public mutating func skipWhitespace() {
        while offset < bytes.count {
            let c = bytes[offset]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            offset += 1
        }
    }

    /// An error at the cursor.
    @inline(never)
    public func error(_ message: String) -> JSONError { JSONError(message, at: offset) }

    /// Describes the next byte for an error message ("end of input", "'x'", "byte 0xFF").
    public func describeNext() -> String {
        guard let c = peek() else { return "end of input" }
        if c >= 0x21 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return c < 0x80 ? "U+\(hex(UInt32(c), width: 4))" : "byte 0x\(hex(UInt32(c), width: 2))"
    }

    // MARK: Values

    /// The scalar at the cursor (string, number, `true`, `false`, `null`), or nil with the
    /// cursor unmoved when the next value is an object or array.
    public mutating func readScalar() throws(JSONError) -> JSONValue? {
        switch peek() {
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): return try readLiteral()
        case UInt8(ascii: "{"), UInt8(ascii: "["): return nil
        case nil: throw error("unexpected end of input (expected a value)")
        default: return .number(try readNumber())
        }
    }

    /// Skips one value of any kind (whitespace before it included), checking its syntax;
    /// `depth` is the value's nesting depth (0 for a document's top-level value).
    /// Duplicate member names are not looked for.
    @inlinable
    public mutating func skipValue(depth: Int) throws(JSONError) {
        guard depth < options.maxDepth else { throw error("nesting deeper than \(options.maxDepth) levels") }
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "{"):
            offset += 1
            skipWhitespace()
            if consume(UInt8(ascii: "}")) { return }
            while true {
                skipWhitespace()
                _ = try scanMemberName()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                if consume(UInt8(ascii: "}")) { return }
                throw error("expected ',' or '}' after an object member, found \(describeNext())")
            }
        case UInt8(ascii: "["):
            offset += 1
            skipWhitespace()
            if consume(UInt8(ascii: "]")) { return }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                if consume(UInt8(ascii: "]")) { return }
                throw error("expected ',' or ']' after an array element, found \(describeNext())")
            }
        case UInt8(ascii: "\""):
            _ = try scanString()
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            _ = try readLiteral()
        default:
            _ = try scanNumber()
        }
    }

    /// Reads `"name"` and the `:` after it (whitespace around the colon skipped).
    @inlinable
    public mutating func scanMemberName() throws(JSONError) -> StringToken {
        guard peek() == UInt8(ascii: "\"") else { throw error("expected a member name in quotes, found \(describeNext())") }
        let name = try scanString()
        skipWhitespace()
        guard consume(UInt8(ascii: ":")) else { throw error("expected ':' after a member name, found \(describeNext())") }
        skipWhitespace()
        return name
    }

    // MARK: Literals and numbers

    /// Reads `true`, `false` or `null`.
    public mutating func readLiteral() throws(JSONError) -> JSONValue {
        func match(_ word: StaticString) -> Bool {
            let n = word.utf8CodeUnitCount
            guard offset + n <= bytes.count else { return false }
            for i in 0..<n where bytes[offset + i] != word.utf8Start[i] { return false }
            offset += n
            return true
        }
        if match("true") { return .bool(true) }
        if match("false") { return .bool(false) }
        if match("null") { return .null }
        throw error("invalid literal (expected true, false or null)")
    }

    /// Reads a number.
    public mutating func readNumber() throws(JSONError) -> JSONNumber {
        let range = try scanNumber()
        return JSONNumber(text: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self))
    }

    /// Reads a number as the nearest Double (±infinity beyond its range), without keeping its text.
    @inlinable
    public mutating func readDouble() throws(JSONError) -> Double {
        let range = try scanNumber()
        // Short texts (the usual case) make small strings: no allocation.
        return Double(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)) ?? .nan
    }

    /// Checks the number at the cursor against `options.numbers` and returns where it lies.
    @inlinable
    public mutating func scanNumber() throws(JSONError) -> Range<Int> {
        if options.numbers == .permissive { return try scanPermissiveNumber() }
        let start = offset
        @inline(__always) func isDigit(_ c: UInt8?) -> Bool { c.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        _ = consume(UInt8(ascii: "-"))
        guard isDigit(peek()) else {
            if offset > start { throw error("expected a digit after '-', found \(describeNext())") }
            throw error("unexpected \(describeNext()) (expected a value)")
        }
        if consume(0x30) {
            if isDigit(peek()) { throw error("a number cannot start with the digit 0 followed by more digits") }
        } else {
            while isDigit(peek()) { offset += 1 }
        }
        if consume(UInt8(ascii: ".")) {
            guard isDigit(peek()) else { throw error("expected a digit after '.', found \(describeNext())") }
            while isDigit(peek()) { offset += 1 }
        }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            guard isDigit(peek()) else { throw error("expected a digit in the exponent, found \(describeNext())") }
            while isDigit(peek()) { offset += 1 }
        }
        return start..<offset
    }

    @usableFromInline
    mutating func scanPermissiveNumber() throws(JSONError) -> Range<Int> {
        let start = offset
        var digits = 0
        while let c = peek(), (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: ".") || c == UInt8(ascii: "e")
                || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
            if c >= 0x30 && c <= 0x39 { digits += 1 }
            offset += 1
        }
        guard digits > 0 else { offset = start; throw error("unexpected \(describeNext()) (expected a value)") }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        guard Double(text) != nil else { throw error("malformed number '\(text)'") }
        return start..<offset
    }

    // MARK: Strings

    /// Reads a string and decodes it.
    public mutating func readString() throws(JSONError) -> String {
        decode(try scanString())
    }

    /// Checks the string at the cursor (escapes, control characters, UTF-8 under
    /// `options.invalidUnicode`) without decoding it.
    @inlinable
    public mutating func scanString() throws(JSONError) -> StringToken {
        guard consume(UInt8(ascii: "\"")) else { throw error("expected a string in quotes, found \(describeNext())") }
        let start = offset
        var escapes = false
        var nonASCII = false
        while offset < bytes.count {
            let c = bytes[offset]
            if c == UInt8(ascii: "\"") {
                let content = start..<offset
                if nonASCII && options.invalidUnicode == .reject, let bad = Self.firstInvalidUTF8(bytes, content) {
                    throw JSONError("a string is not valid UTF-8", at: bad)
                }
                offset += 1
                return StringToken(content: content, hasEscapes: escapes)
            }
            if c == UInt8(ascii: "\\") {
                escapes = true
                try skipEscape()
                continue
            }
            if c < 0x20 { throw error("control character U+\(hex(UInt32(c), width: 4)) in a string (escape it)") }
            if c >= 0x80 { nonASCII = true }
            offset += 1
        }
        throw error("unterminated string")
    }

    /// The decoded value of a scanned string.
    public func decode(_ token: StringToken) -> String {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[token.content])
        if !token.hasEscapes { return String(decoding: raw, as: UTF8.self) }
        return String(decoding: unescaped(token), as: UTF8.self)
    }

    /// Whether the scanned string's value is `text`, compared by UTF-8 bytes (so canonically
    /// equivalent but differently encoded strings differ). Allocates only for escaped strings.
    @inlinable
    public func string(_ token: StringToken, equals text: String) -> Bool {
        if token.hasEscapes { return unescaped(token).elementsEqual(text.utf8) }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[token.content])
        var text = text
        return text.withUTF8 { utf8 in
            utf8.count == raw.count && (raw.isEmpty || memcmpEqual(raw.baseAddress!, utf8.baseAddress!, raw.count))
        }
    }

    @usableFromInline
    func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let a = a.assumingMemoryBound(to: UInt8.self)
        for i in 0..<n where a[i] != b[i] { return false }
        return true
    }

    /// Validates the escape at the cursor (a backslash) and moves past it.
    @usableFromInline
    mutating func skipEscape() throws(JSONError) {
        let at = offset
        offset += 1
        guard let e = peek() else { throw error("unterminated escape") }
        offset += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return
        case UInt8(ascii: "u"):
            let v = try hex4()
            if v >= 0xD800 && v < 0xDC00 {
                let hasLow = offset + 1 < bytes.count && bytes[offset] == UInt8(ascii: "\\") && bytes[offset + 1] == UInt8(ascii: "u")
                if options.invalidUnicode == .replace {
                    if hasLow { offset += 2; _ = try hex4() }
                    return
                }
                guard hasLow else { throw JSONError("lone surrogate in \\u escape (expected a low surrogate \\uDC00-\\uDFFF after it)", at: at) }
                offset += 2
                let low = try hex4()
                guard low >= 0xDC00 && low < 0xE000 else { throw JSONError("lone surrogate in \\u escape (expected a low surrogate \\uDC00-\\uDFFF after it)", at: at) }
            } else if v >= 0xDC00 && v < 0xE000 && options.invalidUnicode == .reject {
                throw JSONError("lone surrogate in \\u escape (a low surrogate without a high one)", at: at)
            }
        default:
            offset -= 1
            throw error("unknown escape \\\(describeNext()) (expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
        }
    }

    @usableFromInline
    mutating func hex4() throws(JSONError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            let d: UInt32
            switch peek() {
            case let c? where c >= 0x30 && c <= 0x39: d = UInt32(c - 0x30)
            case let c? where c >= 0x41 && c <= 0x46: d = UInt32(c - 0x41 + 10)
            case let c? where c >= 0x61 && c <= 0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("bad \\u escape (expected 4 hex digits, found \(describeNext()))")
            }
            v = v << 4 | d
            offset += 1
        }
        return v
    }

    /// The UTF-8 of an escaped string's value (escapes already validated by `scanString`).
    @usableFromInline
    func unescaped(_ token: StringToken) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(token.content.count)
        var i = token.content.lowerBound
        let end = token.content.upperBound
        func hex(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in at..<at + 4 {
                let c = bytes[k]
                v = v << 4 | UInt32(c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10)
            }
            return v
        }
        while i < end {
            let c = bytes[i]
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex(i)
                i += 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    if i + 6 <= end && bytes[i] == UInt8(ascii: "\\") && bytes[i + 1] == UInt8(ascii: "u") {
                        let low = hex(i + 2)
                        i += 6
                        scalar = low >= 0xDC00 && low < 0xE000 ? 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
                    } else {
                        scalar = 0xFFFD
                    }
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    scalar = 0xFFFD
                }
                Self.appendUTF8(scalar, to: &out)
            default: out.append(e)  // " \ /
            }
        }
        return out
    }

    static func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
        switch v {
        case ..<0x80: out.append(UInt8(v))
        case ..<0x800: out.append(UInt8(0xC0 | v >> 6)); out.append(UInt8(0x80 | v & 0x3F))
        case ..<0x10000:
            out.append(UInt8(0xE0 | v >> 12)); out.append(UInt8(0x80 | v >> 6 & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
        default:
            out.append(UInt8(0xF0 | v >> 18)); out.append(UInt8(0x80 | v >> 12 & 0x3F))
            out.append(UInt8(0x80 | v >> 6 & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
        }
    }

    /// The offset of the first byte of `range` that starts an invalid UTF-8 sequence
    /// (overlong forms, surrogates and code points above U+10FFFF included), or nil.
    @usableFromInline
    static func firstInvalidUTF8(_ p: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let b = p[i]
            if b < 0x80 { i += 1; continue }
            let need: Int
            var cp: UInt32
            let minimum: UInt32
            if b & 0xE0 == 0xC0 { need = 1; cp = UInt32(b & 0x1F); minimum = 0x80 }
            else if b & 0xF0 == 0xE0 { need = 2; cp = UInt32(b & 0x0F); minimum = 0x800 }
            else if b & 0xF8 == 0xF0 { need = 3; cp = UInt32(b & 0x07); minimum = 0x10000 }
            else { return i }
            guard i + need < end else { return i }
            for k in 1...need {
                let c = p[i + k]
                guard c & 0xC0 == 0x80 else { return i }
                cp = cp << 6 | UInt32(c & 0x3F)
            }
            guard cp >= minimum, cp <= 0x10FFFF, !(cp >= 0xD800 && cp < 0xE000) else { return i }
            i += need + 1
        }
        return nil
    }
}

/// Upper-case hex, zero-padded to `width`.
@usableFromInline
func hex(_ v: UInt32, width: Int) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, width - s.count)) + s
}
