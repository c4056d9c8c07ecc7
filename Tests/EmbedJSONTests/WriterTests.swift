import EmbedJSON
import Testing

/// The one escaper: byte-identical to the two it replaced (embedctl's `JSON.string` and the
/// conformance report's `jsonString`, which were the same code), so no golden output changes.
@Suite struct WriterTests {
    /// Golden output of the escapers EmbedJSON replaced, for every control character: named
    /// escapes for \t \n \r only, lower-case `\u00xx` for the rest.
    static let controlCharactersGolden =
        #""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\t\n\u000b\u000c\r\u000e\u000f"#
        + #"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f""#

    @Test func matchesTheLegacyEscapers() {
        let controls = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        #expect(JSONWriter.quoted(controls) == Self.controlCharactersGolden)
        // Printable ASCII: only the quote and the backslash are escaped (not '/', not DEL).
        let printable = String(String.UnicodeScalarView((0x20..<0x80).map { Unicode.Scalar(UInt8($0)) }))
        let golden = ##"" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"##
            + "\u{7F}\""
        #expect(JSONWriter.quoted(printable) == golden)
        // Everything else as is: no \u escapes for non-ASCII, U+2028/2029 or astral characters.
        for s in ["é中😀", "\u{2028}\u{2029}", "e\u{301}", "\u{FEFF}x", "\u{10FFFF}", "\u{80}\u{9F}"] {
            #expect(JSONWriter.quoted(s) == "\"" + s + "\"")
        }
        var appended = "x="
        JSONWriter.appendQuoted("a\n", to: &appended)
        #expect(appended == #"x="a\n""#)
    }

    @Test func exactEscapes() {
        #expect(JSONWriter.quoted("\"\\\n\r\t\u{08}\u{0C}\u{00}\u{1F}/\u{7F}") == #""\"\\\n\r\t\u0008\u000c\u0000\u001f/\#u{7F}""#)
        #expect(JSONWriter.quoted("é😀") == "\"é😀\"")  // non-ASCII as is, never \u-escaped
    }

    @Test func compactRoundTrips() throws {
        let text = #"{"a":[1,-0,1.5e300,"x\"\n",true,false,null,{}],"b":{"c":[]},"a":"dup","é":"😀"}"#
        let v = try JSONValue.parse(text)
        #expect(JSONWriter.compact(v) == text)
        #expect(try JSONValue.parse(JSONWriter.compact(v)) == v)
        for s in ["\u{0}", "\u{1F}x", "\"\\", "\u{10FFFF}"] {
            #expect(try JSONValue.parse(JSONWriter.quoted(s)) == .string(s))
        }
    }
}

@Suite struct FloatWriterTests {
    /// Every float written reads back (through a double, as JSON parsers do) as the same float.
    @Test func floatsRoundTripExactly() {
        var rng = SystemRandomNumberGenerator()
        var samples: [Float] = [0, -0.0, 1, -1, 0.1, 1e-5, 3.4028235e38, 1.17549435e-38, 1.0e-45, 0.33333334]
        for _ in 0..<20_000 { samples.append(Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))) }
        for f in samples where f.isFinite {
            var out = ""
            JSONWriter.appendNumber(f, to: &out)
            let parsed = try? JSONValue.parse(out)
            #expect(parsed?.double.map { Float($0) }?.bitPattern == f.bitPattern, "\(f) → \(out)")
        }
    }

    @Test func nonFiniteFloatsAreNull() {
        var out = ""
        JSONWriter.appendArray([Float.nan, .infinity, 0.5], to: &out)
        #expect(out == "[null,null,0.5]")
    }
}
