/// Minimal JSON for embedctl: writing output and reading `--json-input` (no Foundation, which
/// would cost start-up time and ICU for a tool people run in loops).
enum JSON {
    /// A quoted, escaped JSON string.
    static func string(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// A float in the shortest form that round-trips (Swift's description); JSON has no
    /// NaN/Infinity, so those become null.
    static func number(_ f: Float) -> String {
        guard f.isFinite else { return "null" }
        if f == f.rounded(), abs(f) < 1e7 { return String(Int(f)) }
        return "\(f)"
    }

    /// Objects are built as ordered key/value lists so output is stable.
    static func object(_ pairs: [(String, String)], indent: String = "") -> String {
        if pairs.isEmpty { return "{}" }
        let inner = indent + "  "
        return "{\n" + pairs.map { "\(inner)\(string($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n\(indent)}"
    }

    static func array(_ items: [String], indent: String = "") -> String {
        if items.isEmpty { return "[]" }
        let inner = indent + "  "
        return "[\n" + items.map { inner + $0 }.joined(separator: ",\n") + "\n\(indent)]"
    }

    /// Parses a JSON array of strings (the `--json-input` format).
    static func parseStringArray(_ bytes: [UInt8]) throws(CLIError) -> [String] {
        var p = Parser(bytes: bytes)
        p.skipSpace()
        guard p.peek() == UInt8(ascii: "[") else { throw p.fail("expected a JSON array of strings") }
        p.i += 1
        var out: [String] = []
        p.skipSpace()
        if p.peek() == UInt8(ascii: "]") { p.i += 1 } else {
            while true {
                p.skipSpace()
                guard p.peek() == UInt8(ascii: "\"") else { throw p.fail("expected a string (element \(out.count))") }
                out.append(try p.parseString())
                p.skipSpace()
                if p.peek() == UInt8(ascii: ",") { p.i += 1; continue }
                if p.peek() == UInt8(ascii: "]") { p.i += 1; break }
                throw p.fail("expected ',' or ']'")
            }
        }
        p.skipSpace()
        guard p.i == bytes.count else { throw p.fail("unexpected content after the array") }
        return out
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0

        func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func skipSpace() {
            while let c = peek(), c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 }
        }

        func fail(_ m: String) -> CLIError {
            var line = 1, col = 1
            for b in bytes[..<min(i, bytes.count)] { if b == 0x0A { line += 1; col = 1 } else { col += 1 } }
            return .runtime("invalid JSON input at line \(line), column \(col): \(m)")
        }

        mutating func hex4() throws(CLIError) -> UInt32 {
            guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
                throw fail("bad \\u escape")
            }
            i += 4
            return v
        }

        mutating func parseString() throws(CLIError) -> String {
            i += 1  // opening quote
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flushRaw(_ raw: inout [UInt8], _ scalars: inout String.UnicodeScalarView) throws(CLIError) {
                guard !raw.isEmpty else { return }
                guard let s = String(validating: raw, as: UTF8.self) else { throw CLIError.runtime("invalid JSON input: a string is not valid UTF-8") }
                scalars.append(contentsOf: s.unicodeScalars)
                raw.removeAll()
            }
            while true {
                guard let c = peek() else { throw fail("unterminated string") }
                i += 1
                if c == UInt8(ascii: "\"") { break }
                if c < 0x20 { throw fail("control character in a string") }
                if c != UInt8(ascii: "\\") { raw.append(c); continue }
                try flushRaw(&raw, &scalars)
                guard let e = peek() else { throw fail("unterminated escape") }
                i += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
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
                    scalars.append(u)
                default: throw fail("unknown escape \\\(Character(Unicode.Scalar(e)))")
                }
            }
            try flushRaw(&raw, &scalars)
            return String(scalars)
        }
    }
}
