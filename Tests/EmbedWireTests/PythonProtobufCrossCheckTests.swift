import Foundation
import Testing
@testable import EmbedWire

/// Cross-checks our codec against Google's protobuf for Python, generated from
/// proto/embedd.proto with protoc at test time. Needs Debian's `protobuf-compiler` and
/// `python3-protobuf` (or any python3 with the `protobuf` package and a `protoc`).
@Suite struct PythonProtobufCrossCheckTests {
    /// Decodes every line `Type hex` from stdin with the generated classes, drops unknown
    /// fields, re-encodes deterministically and prints `Type hex`; then prints messages that
    /// Python builds itself, prefixed with `PY`.
    static let script = #"""
for line in sys.stdin:
    name, hx = line.split()
    hx = "" if hx == "-" else hx
    m = getattr(pb, name)()
    m.ParseFromString(bytes.fromhex(hx))
    m.DiscardUnknownFields()
    print(name, m.SerializeToString(deterministic=True).hex() or "-")
r = pb.EmbedRequest(model="all-MiniLM-L6-v2")
r.inputs.add().text = "héllo"
r.inputs.add().media.CopyFrom(pb.Media(data=bytes(range(256)), mime_type="image/png"))
r.inputs.add().audio.samples.extend([0.5, -1.0, 3.0])
print("PY EmbedRequest", r.SerializeToString().hex())
s = pb.StatusResponse(version="9", pid=1, uptime_ms=2**50, calls_total=2**63 + 5, state="serving")
s.models.add(name="m", state=pb.FAILED, error="boom", modalities=["text", "image"], dimension=768, generation=2**40)
s.plugins.add(name="p", path="/x")
print("PY StatusResponse", s.SerializeToString().hex())
l = pb.LoadModelRequest(name="n", options={"b": "2", "a": "1"})
print("PY LoadModelRequest", l.SerializeToString().hex())
e = pb.EmbedResponse(model="m", dim=2)
e.vectors.add().values.extend([1.0, -2.5])
print("PY EmbedResponse", e.SerializeToString().hex())
"""#

    @Test func pythonProtobufAgreesWithOurCodec() throws {
        let input = Samples.all.map { "\($0.0) \(PythonProtobuf.hex($0.1))\n" }.joined()
        let lines = try PythonProtobuf.run(Self.script, input: input)
        let ours = lines.filter { !$0.hasPrefix("PY ") }
        try #require(ours.count == Samples.all.count)
        // 1. Python decodes our bytes, knows every field (unknown ones were dropped) and
        //    re-encodes them to exactly our bytes.
        for (line, sample) in zip(ours, Samples.all) {
            #expect(line == "\(sample.0) \(PythonProtobuf.hex(sample.1))", "python disagrees on \(sample.0)")
        }
        // 2. We decode what Python encodes, and re-encode it to the same bytes.
        let theirs = lines.filter { $0.hasPrefix("PY ") }.map { $0.split(separator: " ").map(String.init) }
        #expect(theirs.count == 4)
        for parts in theirs {
            let bytes = PythonProtobuf.unhex(parts[2])
            switch parts[1] {
            case "EmbedRequest":
                let r = try EmbedRequest(serializedBytes: bytes)
                #expect(r.model == "all-MiniLM-L6-v2")
                #expect(r.inputs[0] == .text("héllo"))
                #expect(r.inputs[1] == Input(.media(Media(data: Array(0...255), mimeType: "image/png"))))
                #expect(r.inputs[2] == Input(.audio(Audio(samples: [0.5, -1, 3]))))
                #expect(r.serializedBytes() == bytes)
            case "StatusResponse":
                let s = try StatusResponse(serializedBytes: bytes)
                #expect(s.callsTotal == (1 << 63) + 5 && s.uptimeMs == 1 << 50 && s.state == "serving")
                #expect(s.models == [ModelInfo(name: "m", state: .failed, error: "boom", modalities: ["text", "image"],
                                               dimension: 768, generation: 1 << 40)])
                #expect(s.plugins == [PluginInfo(name: "p", path: "/x")])
                #expect(s.serializedBytes() == bytes)
            case "LoadModelRequest":
                let l = try LoadModelRequest(serializedBytes: bytes)
                #expect(l.options == ["a": "1", "b": "2"] && l.name == "n")
            case "EmbedResponse":
                let e = try EmbedResponse(serializedBytes: bytes)
                #expect(e.vectors == [Vector(values: [1, -2.5])] && e.dim == 2)
                #expect(e.serializedBytes() == bytes)
            default:
                Issue.record("unexpected line \(parts)")
            }
        }
    }
}
