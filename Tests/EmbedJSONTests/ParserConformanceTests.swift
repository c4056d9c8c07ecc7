import EmbedJSON
import Testing

/// RFC 8259 conformance of `JSONValue.parse`, and the lenient choices of `JSONParseOptions`.
@Suite struct ParserConformanceTests {
    static let lenient = JSONParseOptions(maxDepth: 128, invalidUnicode: .replace, numbers: .permissive)

    func parse(_ text: String, _ options: JSONParseOptions = .strict) throws(JSONError) -> JSONValue {
        try JSONValue.parse(text, options: options)
    }

    func parse(bytes: [UInt8], _ options: JSONParseOptions = .strict) throws(JSONError) -> JSONValue {
        try JSONValue.parse(bytes, options: options)
    }

    /// The error a document gives (nil when it parses).
    func failure(_ text: String, _ options: JSONParseOptions = .strict) -> JSONError? {
        failure(bytes: Array(text.utf8), options)
    }

    func failure(bytes: [UInt8], _ options: JSONParseOptions = .strict) -> JSONError? {
        do { _ = try JSONValue.parse(bytes, options: options); return nil } catch { return error }
    }

    @Test func literals() throws {
        #expect(try parse("true") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("null") == .null)
        #expect(try parse(" \t\r\n null \n") == .null)
        for bad in ["tru", "nul", "True", "NULL", "fals", "t", "nan", "NaN", "Infinity", "-Infinity", "undefined"] {
            #expect(failure(bad) != nil, "\(bad)")
        }
        #expect(failure("tru")?.message.contains("expected true, false or null") == true)
        #expect(failure("truex")?.message.contains("after the JSON value") == true)
    }

    @Test func stringEscapes() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u0041\u00e9\u4E2D\u0000""#) == .string("Aé中\u{0}"))
        #expect(try parse(#""\ud83d\ude00 \uD83D\uDE00""#) == .string("😀 😀"))
        #expect(try parse(#""""#) == .string(""))
        #expect(try parse("\"é中😀\u{7F}\"") == .string("é中😀\u{7F}"))
        #expect(failure(#""\x""#)?.message.hasPrefix("unknown escape \\'x'") == true)
        #expect(failure(#""\u12""#)?.message.contains("expected 4 hex digits") == true)
        #expect(failure(#""\u12g4""#)?.message.contains("expected 4 hex digits, found 'g'") == true)
        #expect(failure(#""abc"#)?.message == "unterminated string")
        #expect(failure(#""abc\"#)?.message == "unterminated escape")
    }

    @Test func loneSurrogates() throws {
        // Strict: refused, pointing at the escape.
        let high = failure(#"["ab\ud800"]"#)
        #expect(high?.message.hasPrefix("lone surrogate") == true && high?.offset == 4)
        #expect(failure(#""\udc00""#)?.message.contains("low surrogate without a high one") == true)
        #expect(failure(#""\ud800\u0041""#)?.message.hasPrefix("lone surrogate") == true)
        #expect(failure(#""\ud800x""#) != nil)
        // Replace (model files): U+FFFD; a high surrogate followed by another \u escape takes it along.
        #expect(try parse(#""a\ud800b""#, Self.lenient) == .string("a\u{FFFD}b"))
        #expect(try parse(#""\udc00""#, Self.lenient) == .string("\u{FFFD}"))
        #expect(try parse(#""\ud800\u0041z""#, Self.lenient) == .string("\u{FFFD}z"))
        #expect(try parse(#""\ud83d\ude00""#, Self.lenient) == .string("😀"))
    }

    @Test func controlCharacters() throws {
        for c in [0x00, 0x01, 0x0A, 0x1F] as [UInt8] {
            let e = failure(bytes: [0x22, 0x61, c, 0x22])
            #expect(e?.message.hasPrefix("control character U+00") == true && e?.offset == 2, "\(c)")
        }
        #expect(try parse(bytes: [0x22, 0x7F, 0x22]) == .string("\u{7F}"))  // DEL is not a control character in JSON
        #expect(try parse(#""\u001f""#) == .string("\u{1F}"))
    }

    @Test func invalidUTF8() throws {
        let cases: [[UInt8]] = [
            [0xFF], [0x80], [0xC0, 0x80] /* overlong */, [0xE0, 0x80, 0x80] /* overlong */,
            [0xED, 0xA0, 0x80] /* encoded surrogate */, [0xF4, 0x90, 0x80, 0x80] /* > U+10FFFF */,
            [0xE2, 0x82] /* truncated */, [0xC3, 0x41], [0xF8, 0x80, 0x80, 0x80, 0x80],
        ]
        for bad in cases {
            let e = failure(bytes: [0x22, 0x61] + bad + [0x22])
            #expect(e?.message == "a string is not valid UTF-8" && e?.offset == 2, "\(bad)")
            #expect(try parse(bytes: [0x22, 0x61] + bad + [0x22], Self.lenient).string?.contains("\u{FFFD}") == true)
        }
        #expect(try parse(bytes: [0x22, 0xF0, 0x9F, 0x98, 0x80, 0xC3, 0xA9, 0x22]) == .string("😀é"))
        // Member names are strings too.
        #expect(failure(bytes: Array(#"{""#.utf8) + [0xFF] + Array(#"":1}"#.utf8))?.message == "a string is not valid UTF-8")
        // Invalid bytes outside strings are never part of a token.
        #expect(failure(bytes: [0xFF])?.message.contains("byte 0xFF") == true)
    }

    @Test func numbers() throws {
        for (text, double) in [("0", 0.0), ("-0", -0.0), ("1", 1), ("-12", -12), ("1.5", 1.5), ("1e5", 1e5), ("1E+5", 1e5),
                               ("1e-5", 1e-5), ("-1.25e2", -125), ("0.000", 0), ("0e0", 0)] {
            let v = try parse(text)
            #expect(v == .number(JSONNumber(text: text)), "\(text)")
            #expect(v.double == double, "\(text)")
        }
        #expect(try parse("-0").double?.sign == .minus)
        for (bad, message) in [("01", "cannot start with the digit 0"), ("-01", "cannot start with the digit 0"),
                               ("1.", "expected a digit after '.'"), (".5", "expected a value"), ("+1", "expected a value"),
                               ("1e", "expected a digit in the exponent"), ("1e+", "expected a digit in the exponent"),
                               ("-", "expected a digit after '-'"), ("--1", "expected a digit after '-'"), ("1.e3", "after '.'"),
                               ("0x10", "after the JSON value"), ("1-2", "after the JSON value")] {
            #expect(failure(bad)?.message.contains(message) == true, "\(bad): \(String(describing: failure(bad)))")
        }
        // Permissive (model files): what Double(String) reads within JSON's number characters.
        #expect(try parse("01", Self.lenient).int == 1)
        #expect(try parse("1.", Self.lenient).double == 1)
        #expect(try parse(".5", Self.lenient).double == 0.5)
        #expect(try parse("+1", Self.lenient).int == 1)
        #expect(failure("1e", Self.lenient)?.message.contains("malformed number '1e'") == true)
        #expect(failure("-", Self.lenient) != nil)
    }

    @Test func hugeNumbersKeepTheirText() throws {
        let maxInt = try parse("9223372036854775807").number!
        #expect(maxInt.int64 == Int64.max && maxInt.int == Int.max && maxInt.uint64 == UInt64(Int64.max))
        #expect(try parse("-9223372036854775808").number?.int64 == Int64.min)
        let beyond = try parse("9223372036854775808").number!
        #expect(beyond.int64 == nil && beyond.uint64 == 9_223_372_036_854_775_808)
        let maxU = try parse("18446744073709551615").number!
        #expect(maxU.uint64 == UInt64.max && maxU.int64 == nil)
        let past = try parse("18446744073709551616").number!
        #expect(past.uint64 == nil && past.double == 18446744073709551616.0)
        // 2^53 + 1 is exact as an integer, rounded as a Double.
        let odd = try parse("9007199254740993").number!
        #expect(odd.int64 == 9_007_199_254_740_993 && odd.double == 9_007_199_254_740_992)
        #expect(try parse("1e400").double == .infinity)
        #expect(try parse("-1e400").double == -.infinity)
        #expect(try parse("1e-400").double == 0)
        let long = String(repeating: "1234567890", count: 40)
        #expect(try parse(long).number?.text == long)
        #expect(try parse("1.0").int == nil && parse("1e2").int == nil && parse("-1").number?.uint64 == nil)
    }

    @Test func containers() throws {
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object([]))
        #expect(try parse(#" [ 1 , "a" , [ ] , { } , null ] "#)
                == .array([.number(JSONNumber(1)), .string("a"), .array([]), .object([]), .null]))
        let o = try parse(#"{"b": 1, "a": {"c": [true]}}"#)
        #expect(o.members?.map(\.0) == ["b", "a"])  // document order
        #expect(o["a"]?["c"]?.array == [.bool(true)])
        #expect(o["zz"] == nil && o.array == nil && JSONValue.null["a"] == nil)
        for (bad, message) in [("[1,]", "unexpected ']' (expected a value)"), ("[1 2]", "expected ',' or ']' after an array element, found '2'"),
                               ("{\"a\" 1}", "expected ':' after a member name, found '1'"),
                               ("{\"a\":1 \"b\":2}", "expected ',' or '}' after an object member, found '\"'"),
                               ("{1:2}", "expected a member name in quotes, found '1'"), ("{\"a\":1,}", "expected a member name in quotes, found '}'"),
                               ("[", "unexpected end of input"), ("{\"a\":", "unexpected end of input"), ("", "unexpected end of input"),
                               ("   ", "unexpected end of input"), ("[1", "found end of input")] {
            #expect(failure(bad)?.message.contains(message) == true, "\(bad): \(String(describing: failure(bad)))")
        }
    }

    @Test func trailingGarbage() {
        for (bad, offset) in [("1 2", 2), ("{} x", 3), ("[1]]", 3), ("null,", 4), ("\"a\"\"b\"", 3)] {
            let e = failure(bad)
            #expect(e?.offset == offset && e?.message.contains("after the JSON value (expected the end of input)") == true, "\(bad)")
        }
    }

    /// Policy: duplicate names are kept by default (lookups take the last, as the model files'
    /// reader always did); `.reject` refuses them (embedctl's inputs), naming the second one.
    @Test func duplicateKeys() throws {
        let v = try parse(#"{"a": 1, "b": 2, "a": 3}"#)
        #expect(v.members?.count == 3 && v["a"]?.int == 3)
        let e = failure(#"{"a": 1, "b": {"a": 2}, "a": 3}"#, JSONParseOptions(duplicateKeys: .reject))
        #expect(e?.message == "duplicate member \"a\"" && e?.offset == 24)
        #expect(try parse(#"{"a": {"a": 1}}"#, JSONParseOptions(duplicateKeys: .reject))["a"]?["a"]?.int == 1)
    }

    @Test func deepNestingIsAnErrorNotACrash() throws {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let hostile = String(repeating: open, count: 200_000)
            #expect(failure(hostile)?.message == "nesting deeper than 128 levels")
            // Depth counts values: the top level is 0, so 128 nested arrays hold values at depth 127.
            let ok = String(repeating: open, count: 127) + "1" + String(repeating: close, count: 127)
            #expect(failure(ok) == nil)
            let tooDeep = String(repeating: open, count: 128) + "1" + String(repeating: close, count: 128)
            #expect(failure(tooDeep)?.message == "nesting deeper than 128 levels")
            #expect(failure(tooDeep, JSONParseOptions(maxDepth: 256)) == nil)
        }
        #expect(failure("[[1]]", JSONParseOptions(maxDepth: 2))?.message == "nesting deeper than 2 levels")
    }

    @Test func errorLocations() {
        let text = "{\n  \"a\": 1,\n  \"b\": tru\n}"
        let bytes = Array(text.utf8)
        let e = failure(text)!
        #expect(e.location(in: bytes) == (line: 3, column: 8))
        #expect(e.description == "invalid literal (expected true, false or null) at byte 19")
        #expect(JSONError("x", at: 0).location(in: bytes) == (line: 1, column: 1))
    }

    @Test func entryPointsAgree() throws {
        let text = #"{"k": ["v", 1.5, false]}"#
        let fromString = try JSONValue.parse(text)
        let fromBytes = try JSONValue.parse(Array(text.utf8))
        let fromBuffer = try Array(text.utf8).withUnsafeBytes { raw throws(JSONError) in try JSONValue.parse(raw) }
        #expect(fromString == fromBytes && fromBytes == fromBuffer)
        let (withSpans, _) = try JSONValue.parseWithSpans(Array(text.utf8))
        #expect(withSpans == fromString)
    }
}
