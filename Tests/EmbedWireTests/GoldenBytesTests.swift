import Foundation
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

    /// Google's protobuf (Python, from proto/embedd.proto via protoc) decodes every golden
    /// encoding, knows every field, and re-encodes it to exactly the same bytes.
    @Test func pythonProtobufAgreesWithTheGoldenBytes() throws {
        let script = #"""
import sys, subprocess, tempfile, os, importlib
proto_dir, = sys.argv[1:]
out = tempfile.mkdtemp()
subprocess.run(["protoc", "--proto_path=" + proto_dir, "--python_out=" + out, os.path.join(proto_dir, "embedd.proto")], check=True)
sys.path.insert(0, out)
pb = importlib.import_module("embedd_pb2")
for line in sys.stdin:
    name, hx = line.split()
    m = getattr(pb, name)()
    m.ParseFromString(bytes.fromhex("" if hx == "-" else hx))
    unknown = len(m.UnknownFields()) if hasattr(m, "UnknownFields") else 0
    print(name, m.SerializeToString(deterministic=True).hex() or "-", unknown)
"""#
        let p = Process()
        p.executableURL = URL(fileURLWithPath: PythonProtobufCrossCheckTests.python())
        p.arguments = ["-c", script, PythonProtobufCrossCheckTests.repoRoot.appendingPathComponent("proto").path]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        p.standardInput = stdin; p.standardOutput = stdout; p.standardError = stderr
        try p.run()
        stdin.fileHandleForWriting.write(GoldenSamples.goldenBytes.map { "\($0)\n" }.joined().data(using: .utf8)!)
        try stdin.fileHandleForWriting.close()
        let out = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        try #require(p.terminationStatus == 0,
                     "python protobuf cross-check could not run (apt-get install protobuf-compiler python3-protobuf): \(err)")
        let lines = out.split(separator: "\n")
        try #require(lines.count == GoldenSamples.goldenBytes.count)
        for (line, golden) in zip(lines, GoldenSamples.goldenBytes) {
            #expect(line == golden + " 0", "python protobuf disagrees on \(golden.prefix(40))")
        }
    }

    @Test func goldenBytesDecodeToTheSamples() throws {
        for ((name, message), line) in zip(GoldenSamples.all, GoldenSamples.goldenBytes) {
            let bytes = Self.unhex(line.split(separator: " ")[1])
            #expect(try Self.decodes(bytes, to: message), "decoding of \(name) changed")
        }
    }
}
