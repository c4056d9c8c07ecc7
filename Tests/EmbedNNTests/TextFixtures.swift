import EmbedNN
import EmbedSys

/// The committed golden files (Tests/Fixtures/text) and the real models they were made from.
enum TextFixtures {
    static let fixtureDir: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // EmbedNNTests/TextFixtures.swift
        return parts.joined(separator: "/") + "/Fixtures/text"
    }()

    /// `$EMBEDD_MODELS_DIR`, else `<repo>/models` (filled by tools/fetch-models).
    static let modelsDir: String = {
        if let d = Environment.get("EMBEDD_MODELS_DIR"), !d.isEmpty { return d }
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/models"
    }()

    static let modelNames = ["all-MiniLM-L6-v2", "all-mpnet-base-v2"]

    static func modelFolder(_ name: String) -> String { modelsDir + "/" + name }

    /// Fails with the fix in the message when the models were not fetched.
    static func requireModel(_ name: String) throws -> String {
        let f = modelFolder(name)
        guard FileSystem.isRegularFile(f + "/model.safetensors") else {
            throw NNError("model \(name) not found in \(modelsDir): run tools/fetch-models (or set EMBEDD_MODELS_DIR)")
        }
        return f
    }

    /// The corpus inputs (escapes \n \t \r \\ \u{HEX}; '#' lines are comments).
    static let corpus: [String] = {
        let bytes = try! FileSystem.readFile(fixtureDir + "/corpus.txt")
        var out: [String] = []
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            if line.first == UInt8(ascii: "#") { continue }
            var s = String.UnicodeScalarView()
            let scalars = Array(String(decoding: line, as: UTF8.self).unicodeScalars)
            var i = 0
            while i < scalars.count {
                let c = scalars[i]
                guard c == "\\" else { s.append(c); i += 1; continue }
                let n = scalars[i + 1]
                switch n {
                case "n": s.append("\n"); i += 2
                case "t": s.append("\t"); i += 2
                case "r": s.append("\r"); i += 2
                case "\\": s.append("\\"); i += 2
                default:  // u{HEX}
                    var j = i + 3
                    var v: UInt32 = 0
                    while scalars[j] != "}" { v = v * 16 + UInt32(String(scalars[j]), radix: 16)!; j += 1 }
                    s.append(Unicode.Scalar(v)!)
                    i = j + 1
                }
            }
            out.append(String(s))
        }
        return out
    }()

    /// Golden token ids per input.
    static func ids(_ model: String) -> [[Int32]] {
        let bytes = try! FileSystem.readFile(fixtureDir + "/\(model).ids")
        return bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().map { line in
            line.split(separator: UInt8(ascii: " ")).map { Int32(String(decoding: $0, as: UTF8.self))! }
        }
    }

    /// Golden vectors per input (little-endian float32).
    static func vectors(_ model: String, dimension: Int) -> [[Float]] {
        let bytes = try! FileSystem.readFile(fixtureDir + "/\(model).f32")
        let floats = bytes.withUnsafeBytes { raw in
            (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        return stride(from: 0, to: floats.count, by: dimension).map { Array(floats[$0..<($0 + dimension)]) }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in a.indices { ab += Double(a[i]) * Double(b[i]); aa += Double(a[i]) * Double(a[i]); bb += Double(b[i]) * Double(b[i]) }
        return ab / max((aa * bb).squareRoot(), 1e-30)
    }
}
