import EmbedJSON
import Testing

/// The lazy scanner (the store's metadata filters) and source spans (embedctl's raw values).
@Suite struct ScannerTests {
    func withScanner<T>(_ text: String, _ body: (inout JSONScanner) throws -> T) rethrows -> T {
        try Array(text.utf8).withUnsafeBytes { raw in
            var s = JSONScanner(raw)
            return try body(&s)
        }
    }

    @Test func scansStringsWithoutDecoding() throws {
        try withScanner(#""caf\u00e9" "plain" "e\u0301""#) { s in
            let escaped = try s.scanString()
            #expect(escaped.hasEscapes && escaped.content == 1..<10)
            #expect(s.decode(escaped) == "café")
            #expect(s.string(escaped, equals: "caf\u{E9}") && !s.string(escaped, equals: "cafe\u{301}"))
            s.skipWhitespace()
            let plain = try s.scanString()
            #expect(!plain.hasEscapes && s.string(plain, equals: "plain") && !s.string(plain, equals: "plai"))
            s.skipWhitespace()
            let decomposed = try s.scanString()
            // Compared as UTF-8 bytes, not by canonical equivalence.
            #expect(s.string(decomposed, equals: "e\u{301}") && !s.string(decomposed, equals: "\u{E9}"))
            #expect(s.isAtEnd)
        }
        try withScanner(#""""#) { s in
            let empty = try s.scanString()
            #expect(s.string(empty, equals: "") && !s.string(empty, equals: "x"))
        }
    }

    @Test func skipsAndReadsValues() throws {
        try withScanner(#"{"a": [1, {"b": "c"}], "n": -2.5e1, "t": true, "z": null}"#) { s in
            let open = s.consume(UInt8(ascii: "{"))
            #expect(open)
            s.skipWhitespace()
            #expect(s.decode(try s.scanMemberName()) == "a")
            let container = try s.readScalar()
            #expect(container == nil)  // a container: cursor unmoved
            try s.skipValue(depth: 1)
            let comma1 = s.consume(UInt8(ascii: ","))
            #expect(comma1)
            s.skipWhitespace()
            _ = try s.scanMemberName()
            let n = try s.readDouble()
            #expect(n == -25)
            let comma2 = s.consume(UInt8(ascii: ","))
            #expect(comma2)
            s.skipWhitespace()
            _ = try s.scanMemberName()
            let t = try s.readScalar()
            #expect(t == .bool(true))
            let comma3 = s.consume(UInt8(ascii: ","))
            #expect(comma3)
            s.skipWhitespace()
            _ = try s.scanMemberName()
            let z = try s.readLiteral()
            #expect(z == .null)
            let close = s.consume(UInt8(ascii: "}"))
            #expect(close && s.isAtEnd)
        }
        // skipValue checks syntax and depth as parse does.
        for bad in [#"{"a":01}"#, #"[1,]"#, #"{"a" 1}"#, #""\ud800""#, String(repeating: "[", count: 1000)] {
            #expect(throws: JSONError.self, "\(bad)") { try withScanner(bad) { s in try s.skipValue(depth: 0) } }
        }
        let e = withScanner(String(repeating: "[", count: 1000)) { s -> JSONError? in
            do { try s.skipValue(depth: 0); return nil } catch { return error as? JSONError }
        }
        #expect(e?.message == "nesting deeper than 128 levels")
    }

    @Test func spansPointAtTheSource() throws {
        let text = #" {"a": [1, "x\n"], "b" : {"c":null}, "d": -0.5 } "#
        let bytes = Array(text.utf8)
        let (value, span) = try JSONValue.parseWithSpans(bytes)
        func raw(_ sp: JSONSpan) -> String { String(decoding: bytes[sp.range], as: UTF8.self) }
        #expect(raw(span) == #"{"a": [1, "x\n"], "b" : {"c":null}, "d": -0.5 }"#)
        #expect(span.children.count == value.members?.count)
        #expect(span.children.map(raw) == [#"[1, "x\n"]"#, #"{"c":null}"#, "-0.5"])
        #expect(span.children[0].children.map(raw) == ["1", #""x\n""#])
        #expect(span.children[1].children.map(raw) == ["null"])
        #expect(span.children[2].children.isEmpty)
    }
}
