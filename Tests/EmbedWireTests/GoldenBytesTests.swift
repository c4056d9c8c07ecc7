import Testing
import EmbedWire

/// The generated messages encode exactly as the hand-written ones did, and decode those bytes
/// back to the same values: a change in field order, in which defaults are skipped, in packing
/// or in oneof presence fails here, even where Google's protobuf would accept both encodings.
@Suite struct GoldenBytesTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.isEmpty ? "-" : bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func unhex(_ s: Substring) -> [UInt8] {
        guard s != "-" else { return [] }
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// Decodes `bytes` as `M` and compares with `message`.
    static func decodes<M: ProtoMessage>(_ bytes: [UInt8], to message: M) throws -> Bool {
        try M(serializedBytes: bytes) == message
    }

    @Test func encodingsMatchTheGoldenBytes() {
        #expect(GoldenSamples.all.count == GoldenSamples.goldenBytes.count)
        for ((name, message), line) in zip(GoldenSamples.all, GoldenSamples.goldenBytes) {
            #expect(line == Substring("\(name) \(Self.hex(message.serializedBytes()))"), "encoding of \(name) changed")
        }
    }

    @Test func goldenBytesDecodeToTheSamples() throws {
        for ((name, message), line) in zip(GoldenSamples.all, GoldenSamples.goldenBytes) {
            let bytes = Self.unhex(line.split(separator: " ")[1])
            #expect(try Self.decodes(bytes, to: message), "decoding of \(name) changed")
        }
    }
}
