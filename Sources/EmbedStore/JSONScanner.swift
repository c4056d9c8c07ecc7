/// A small, strict JSON reader over UTF-8 bytes: validates metadata at upsert time and pulls
/// top-level scalar fields out of stored metadata while filtering (no allocation per record
/// beyond the field names it compares).
enum JSONScanner {
    /// Maximum nesting accepted, so hostile input cannot exhaust the stack.
    static let maxDepth = 64

    /// Throws `StoreError.invalidArgument` unless `bytes` is exactly one JSON object.
    static func validateObject(_ bytes: UnsafeRawBufferPointer, key: String) throws(StoreError) {
        var p = Parser(bytes: bytes)
        p.skipWhitespace()
        guard p.peek() == UInt8(ascii: "{") else {
            throw .invalidArgument("metadata of key '\(key)' must be a JSON object")
        }
        guard p.skipValue(depth: 0) else {
            throw .invalidArgument("metadata of key '\(key)' is not valid JSON (at byte \(p.index))")
        }
        p.skipWhitespace()
        guard p.index == bytes.count else {
            throw .invalidArgument("metadata of key '\(key)' has trailing bytes after the object (at byte \(p.index))")
        }
    }

    /// Calls `body(name, scalar-or-nil)` for each top-level member of the object in `bytes`
    /// (nil for objects/arrays); `body` returns false to stop early. Returns false if the bytes
    /// are not a well-formed object (a stored record never is, unless the file is damaged).
    static func forEachTopLevelScalar(in bytes: UnsafeRawBufferPointer, _ body: (String, JSONValue?) -> Bool) -> Bool {
        var p = Parser(bytes: bytes)
        p.skipWhitespace()
        guard p.consume(UInt8(ascii: "{")) else { return false }
        p.skipWhitespace()
        if p.consume(UInt8(ascii: "}")) { return true }
        while true {
            p.skipWhitespace()
            guard let name = p.parseString() else { return false }
            p.skipWhitespace()
            guard p.consume(UInt8(ascii: ":")) else { return false }
            p.skipWhitespace()
            let value: JSONValue?
            switch p.peek() {
            case UInt8(ascii: "\""):
                guard let s = p.parseString() else { return false }
                value = .string(s)
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                guard let lit = p.parseLiteral() else { return false }
                value = lit
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard p.skipValue(depth: 1) else { return false }
                value = nil
            default:
                guard let d = p.parseNumber() else { return false }
                value = .number(d)
            }
            if !body(name, value) { return true }
            p.skipWhitespace()
            if p.consume(UInt8(ascii: ",")) { continue }
            return p.consume(UInt8(ascii: "}"))
        }
    }

    /// Filter equality: numbers by value (1 equals 1.0), strings by their UTF-8 bytes — as keys
    /// are — not by Swift's canonical equivalence ("é" and "e" + U+0301 are different values).
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if case .string(let x) = a, case .string(let y) = b { return x.utf8.elementsEqual(y.utf8) }
        return a == b
    }

    struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func consume(_ c: UInt8) -> Bool {
            if peek() == c { index += 1; return true }
            return false
        }

        mutating func skipWhitespace() {
            while let c = peek(), c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { index += 1 }
        }

        mutating func skipValue(depth: Int) -> Bool {
            guard depth < JSONScanner.maxDepth else { return false }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: "{"):
                index += 1
                skipWhitespace()
                if consume(UInt8(ascii: "}")) { return true }
                while true {
                    skipWhitespace()
                    guard parseString() != nil else { return false }
                    skipWhitespace()
                    guard consume(UInt8(ascii: ":")), skipValue(depth: depth + 1) else { return false }
                    skipWhitespace()
                    if consume(UInt8(ascii: ",")) { continue }
                    return consume(UInt8(ascii: "}"))
                }
            case UInt8(ascii: "["):
                index += 1
                skipWhitespace()
                if consume(UInt8(ascii: "]")) { return true }
                while true {
                    guard skipValue(depth: depth + 1) else { return false }
                    skipWhitespace()
                    if consume(UInt8(ascii: ",")) { continue }
                    return consume(UInt8(ascii: "]"))
                }
            case UInt8(ascii: "\""):
                return parseString() != nil
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                return parseLiteral() != nil
            default:
                return parseNumber() != nil
            }
        }

        mutating func parseLiteral() -> JSONValue? {
            func match(_ word: StaticString) -> Bool {
                let n = word.utf8CodeUnitCount
                guard index + n <= bytes.count else { return false }
                for i in 0..<n where bytes[index + i] != word.utf8Start[i] { return false }
                index += n
                return true
            }
            if match("true") { return .bool(true) }
            if match("false") { return .bool(false) }
            if match("null") { return .null }
            return nil
        }

        mutating func parseNumber() -> Double? {
            let start = index
            _ = consume(UInt8(ascii: "-"))
            guard let first = peek(), first >= 0x30, first <= 0x39 else { return nil }
            index += 1
            if first != 0x30 { while let c = peek(), c >= 0x30, c <= 0x39 { index += 1 } }
            if consume(UInt8(ascii: ".")) {
                guard let c = peek(), c >= 0x30, c <= 0x39 else { return nil }
                while let c = peek(), c >= 0x30, c <= 0x39 { index += 1 }
            }
            if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
                index += 1
                if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { index += 1 }
                guard let c = peek(), c >= 0x30, c <= 0x39 else { return nil }
                while let c = peek(), c >= 0x30, c <= 0x39 { index += 1 }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            return Double(text)
        }

        /// Parses a string starting at `"`, validating escapes and UTF-8; returns its value.
        mutating func parseString() -> String? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            var out: [UInt8] = []
            while index < bytes.count {
                let c = bytes[index]
                index += 1
                if c == UInt8(ascii: "\"") {
                    return String(validating: out, as: UTF8.self)
                }
                if c < 0x20 { return nil }
                if c != UInt8(ascii: "\\") { out.append(c); continue }
                guard index < bytes.count else { return nil }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = parseHex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")),
                              let low = parseHex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(scalar) else { return nil }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: return nil
                }
            }
            return nil
        }

        mutating func parseHex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[index]
                index += 1
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: return nil
                }
                v = v << 4 | d
            }
            return v
        }
    }
}
