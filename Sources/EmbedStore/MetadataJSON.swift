import EmbedJSON

/// Stored metadata as JSON: validated once at upsert time, then scanned lazily while filtering
/// (EmbedJSON's `JSONScanner`: only the top-level members a filter names are decoded, the rest
/// are skipped, and strings compare by bytes without being decoded).
enum MetadataJSON {
    /// Strict RFC 8259 (invalid UTF-8 and lone surrogates refused), duplicate names kept (a
    /// filter matches if any of them matches), nesting up to 64 levels.
    static let options = JSONParseOptions(maxDepth: 64, duplicateKeys: .keepAll, invalidUnicode: .reject, numbers: .strict)

    /// Throws `StoreError.invalidArgument` unless `bytes` is exactly one JSON object.
    static func validateObject(_ bytes: UnsafeRawBufferPointer, key: String) throws(StoreError) {
        var s = JSONScanner(bytes, options: options)
        s.skipWhitespace()
        guard s.peek() == UInt8(ascii: "{") else {
            throw .invalidArgument("metadata of key '\(key)' must be a JSON object")
        }
        do { try s.skipValue(depth: 0) } catch {
            throw .invalidArgument("metadata of key '\(key)' is not valid JSON (at byte \(error.offset): \(error.message))")
        }
        s.skipWhitespace()
        guard s.isAtEnd else {
            throw .invalidArgument("metadata of key '\(key)' has trailing bytes after the object (at byte \(s.offset))")
        }
    }

    /// Calls `body(&scanner, name)` for each top-level member of the object in `bytes`, with the
    /// scanner at the member's value: `body` must read or skip that value, and returns false to
    /// stop early. Returns false if the bytes are not a well-formed object up to where scanning
    /// stopped (a stored record never is, unless the file is damaged).
    @inline(__always)
    static func forEachTopLevelMember(in bytes: UnsafeRawBufferPointer,
                                      _ body: (inout JSONScanner, JSONScanner.StringToken) throws(JSONError) -> Bool) -> Bool {
        var s = JSONScanner(bytes, options: options)
        do {
            s.skipWhitespace()
            guard s.consume(UInt8(ascii: "{")) else { return false }
            s.skipWhitespace()
            if s.consume(UInt8(ascii: "}")) { return true }
            while true {
                s.skipWhitespace()
                let name = try s.scanMemberName()
                if try !body(&s, name) { return true }
                s.skipWhitespace()
                if s.consume(UInt8(ascii: ",")) { continue }
                return s.consume(UInt8(ascii: "}"))
            }
        } catch {
            return false
        }
    }

    /// Calls `body(name, scalar-or-nil)` for each top-level member (nil for objects/arrays);
    /// `body` returns false to stop early. Returns false for bytes that are not a well-formed object.
    static func forEachTopLevelScalar(in bytes: UnsafeRawBufferPointer, _ body: (String, MetadataValue?) -> Bool) -> Bool {
        forEachTopLevelMember(in: bytes) { (s: inout JSONScanner, name) throws(JSONError) in
            body(s.decode(name), try readScalar(&s).map { $0.value(s) })
        }
    }

    /// A scalar as scanned: strings stay undecoded tokens.
    enum Scanned {
        case string(JSONScanner.StringToken)
        case number(Double)
        case bool(Bool)
        case null

        /// The decoded value.
        func value(_ s: JSONScanner) -> MetadataValue {
            switch self {
            case .string(let t): return .string(s.decode(t))
            case .number(let d): return .number(d)
            case .bool(let b): return .bool(b)
            case .null: return .null
            }
        }
    }

    /// Reads the scalar at the cursor, or skips an object/array (nested `depth` deep) and returns nil.
    @inline(__always)
    static func readScalar(_ s: inout JSONScanner, depth: Int = 1) throws(JSONError) -> Scanned? {
        switch s.peek() {
        case UInt8(ascii: "\""): return .string(try s.scanString())
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            switch try s.readLiteral() {
            case .bool(let b): return .bool(b)
            default: return .null
            }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            try s.skipValue(depth: depth)
            return nil
        default:
            return .number(try readNumber(&s))
        }
    }

    /// A number's value; integers of up to 15 digits (exact in a Double) without going
    /// through a String, the rest by the standard library's parser.
    @inline(__always)
    static func readNumber(_ s: inout JSONScanner) throws(JSONError) -> Double {
        let range = try s.scanNumber()
        let negative = s.bytes[range.lowerBound] == UInt8(ascii: "-")
        let digits = (negative ? range.lowerBound + 1 : range.lowerBound)..<range.upperBound
        if digits.count <= 15 {
            var v: Int64 = 0
            var integral = true
            for i in digits {
                let d = s.bytes[i] &- 0x30
                if d > 9 { integral = false; break }
                v = v &* 10 &+ Int64(d)
            }
            if integral { return negative ? -Double(v) : Double(v) }
        }
        return Double(String(decoding: UnsafeRawBufferPointer(rebasing: s.bytes[range]), as: UTF8.self)) ?? .nan
    }

    /// A scanned string against UTF-8 bytes, in byte order: <0, 0 or >0. Allocates only for
    /// strings written with escapes.
    @inline(__always)
    static func compare(_ t: JSONScanner.StringToken, _ s: JSONScanner, _ x: UnsafeRawBufferPointer) -> Int {
        if t.hasEscapes {
            var decoded = s.decode(t)
            return decoded.withUTF8 { compareBytes(UnsafeRawBufferPointer($0), x) }
        }
        return compareBytes(UnsafeRawBufferPointer(rebasing: s.bytes[t.content]), x)
    }

    /// Lexicographic byte order, a proper prefix first.
    @inline(__always)
    static func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        var i = 0
        while i < n {
            let x = a[i], y = b[i]
            if x != y { return x < y ? -1 : 1 }
            i += 1
        }
        return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
    }

    /// Whether two byte ranges are equal.
    @inline(__always)
    static func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && compareBytes(a, b) == 0
    }

    /// Filter equality of two decoded values (see `Scanned.equals`).
    static func equal(_ a: MetadataValue, _ b: MetadataValue) -> Bool {
        if case .string(let x) = a, case .string(let y) = b { return x.utf8.elementsEqual(y.utf8) }
        return a == b
    }
}
