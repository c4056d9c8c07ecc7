import Foundation
import Testing
import EmbedWire

/// The generated messages encode exactly as the hand-written ones did, and decode those bytes
/// back to the same values: a change in field order, in which defaults are skipped, in packing
/// or in oneof presence fails here, even where Google's protobuf would accept both encodings.
@Suite struct GoldenBytesTests {
    /// Decodes `bytes` as `M` and compares with `message`.
    static func decodes<M: ProtoMessage>(_ bytes: [UInt8], to message: M) throws -> Bool {
        try M(serializedBytes: bytes) == message
    }

    @Test func encodingsMatchTheGoldenBytes() {
        #expect(GoldenSamples.all.count == GoldenSamples.goldenBytes.count)
        for ((name, message), line) in zip(GoldenSamples.all, GoldenSamples.goldenBytes) {
            #expect(line == Substring("\(name) \(PythonProtobuf.hex(message.serializedBytes()))"), "encoding of \(name) changed")
        }
    }

    /// Google's protobuf (Python, from proto/embedd.proto via protoc) decodes every golden
    /// encoding, knows every field, and re-encodes it to exactly the same bytes.
    @Test func pythonProtobufAgreesWithTheGoldenBytes() throws {
        let script = #"""
for line in sys.stdin:
    name, hx = line.split()
    m = getattr(pb, name)()
    m.ParseFromString(bytes.fromhex("" if hx == "-" else hx))
    unknown = len(m.UnknownFields()) if hasattr(m, "UnknownFields") else 0
    print(name, m.SerializeToString(deterministic=True).hex() or "-", unknown)
"""#
        let lines = try PythonProtobuf.run(script, input: GoldenSamples.goldenBytes.map { "\($0)\n" }.joined())
        try #require(lines.count == GoldenSamples.goldenBytes.count)
        for (line, golden) in zip(lines, GoldenSamples.goldenBytes) {
            #expect(line == String(golden) + " 0", "python protobuf disagrees on \(golden.prefix(40))")
        }
    }

    @Test func goldenBytesDecodeToTheSamples() throws {
        for ((name, message), line) in zip(GoldenSamples.all, GoldenSamples.goldenBytes) {
            let bytes = PythonProtobuf.unhex(line.split(separator: " ")[1])
            #expect(try Self.decodes(bytes, to: message), "decoding of \(name) changed")
        }
    }
}
