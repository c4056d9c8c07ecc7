import EmbedJSON
import Testing

/// `JSONWriter.float32`: the text must read back as the same 32 bits whether the reader parses
/// straight to a Float or to a Double first (Milvus's REST layer and Python do the latter).
@Suite struct Float32WriterTests {
    @Test func roundTripsEveryKindOfFloat() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var samples: [Float] = [0, -0.0, 1, -1, 0.1, 1e-7, 3.4028235e38, -3.4028235e38,
                                Float.leastNonzeroMagnitude, Float.leastNormalMagnitude, Float.ulpOfOne]
        for _ in 0..<200_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32))
            if f.isFinite { samples.append(f) }
        }
        for f in samples {
            let text = try #require(JSONWriter.float32(f))
            #expect(Float(text)?.bitPattern == f.bitPattern, "\(text) for \(f.bitPattern)")
            #expect(Double(text).map { Float($0).bitPattern } == f.bitPattern, "\(text) via Double for \(f.bitPattern)")
            // Valid JSON number syntax (the strict parser reads it as a number).
            let parsed = try JSONValue.parse(text)
            #expect(parsed.number != nil, "\(text)")
        }
    }

    @Test func shortestFormWhereSafe() {
        #expect(JSONWriter.float32(0.1) == "0.1")
        #expect(JSONWriter.float32(1) == "1.0")
        #expect(JSONWriter.float32(-2.5) == "-2.5")
        #expect(JSONWriter.float32(.nan) == nil)
        #expect(JSONWriter.float32(.infinity) == nil)
        var out = "["
        JSONWriter.appendFloat32(-.infinity, to: &out)
        #expect(out == "[null")
    }
}
