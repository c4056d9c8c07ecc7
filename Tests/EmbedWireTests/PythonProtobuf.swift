import Foundation
import Testing

/// Google's protobuf for Python, with classes generated from proto/embedd.proto by protoc at
/// test time: the reference our codec is cross-checked against. Needs Debian's
/// `protobuf-compiler` and `python3-protobuf` (or any python3 with `protobuf` and a `protoc`).
enum PythonProtobuf {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Generates `embedd_pb2` into a temporary directory and imports it as `pb`; scripts
    /// continue from here, with their input lines on stdin.
    static let preamble = #"""
import sys, subprocess, tempfile, os, importlib
proto_dir, = sys.argv[1:]
out = tempfile.mkdtemp()
subprocess.run(["protoc", "--proto_path=" + proto_dir, "--python_out=" + out, os.path.join(proto_dir, "embedd.proto")], check=True)
sys.path.insert(0, out)
pb = importlib.import_module("embedd_pb2")

"""#

    static func python() -> String {
        // Debian's python3 carries python3-protobuf; a pyenv shim earlier in PATH may not.
        for p in ["/usr/bin/python3", "/usr/local/bin/python3"] where FileManager.default.isExecutableFile(atPath: p) {
            return p
        }
        return "python3"
    }

    /// Runs `preamble + script` with `input` on stdin; its stdout, split into lines.
    /// Fails the test (naming the packages to install) when the script cannot run.
    static func run(_ script: String, input: String) throws -> [String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python())
        p.arguments = ["-c", preamble + script, repoRoot.appendingPathComponent("proto").path]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        p.standardInput = stdin; p.standardOutput = stdout; p.standardError = stderr
        try p.run()
        stdin.fileHandleForWriting.write(input.data(using: .utf8)!)
        try stdin.fileHandleForWriting.close()
        let out = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        try #require(p.terminationStatus == 0,
                     "python protobuf cross-check could not run (apt-get install protobuf-compiler python3-protobuf): \(err)")
        return out.split(separator: "\n").map(String.init)
    }

    /// Bytes as lower-case hex, "-" for none (the line format the scripts read and print).
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.isEmpty ? "-" : bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func unhex<S: StringProtocol>(_ s: S) -> [UInt8] {
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
}
