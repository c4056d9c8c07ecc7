import EmbedJSON
import EmbedSys

/// The golden files of Tests/Fixtures/audio (made by `tools/make-golden-audio.py features` with
/// real transformers on real speech; see its docstring and features.json).
enum AudioFixtures {
    static let directory: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // EmbedAudioTests/AudioFixtures.swift
        return parts.joined(separator: "/") + "/Fixtures/audio"
    }()

    /// features.json.
    static let index: JSONValue = {
        try! JSONValue.parse(try! FileSystem.readFile(directory + "/features.json"))
    }()

    /// One entry of the index's `inputs`.
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var melCount: Int
        var sampleCount: Int
        var framesStored: Int
        var paddingFrameValue: Float?
        var features: String
        var samples: String?
        var concat: [String]

        var description: String { "\(name) (\(melCount) mels)" }
    }

    static let cases: [Case] = index["inputs"]!.array!.map { e in
        Case(name: e["name"]!.string!, melCount: e["feature_size"]!.int!, sampleCount: e["sample_count"]!.int!,
             framesStored: e["frames_stored"]!.int!, paddingFrameValue: e["padding_frame_value"]!.double.map { Float($0) },
             features: e["features"]!.string!, samples: e["samples"]?.string,
             concat: e["concat"]?.array?.compactMap(\.string) ?? [])
    }

    /// The float32 little-endian values of a fixture file.
    static func floats(_ file: String) throws -> [Float] {
        let b = try FileSystem.readFile(directory + "/" + file)
        precondition(b.count % 4 == 0, file)
        return b.withUnsafeBytes { raw in
            (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    /// The samples of a case: its own file, the script's cyclic concatenation of other cases'
    /// samples cut to `sampleCount`, or nothing.
    static func samples(_ c: Case) throws -> [Float] {
        if let file = c.samples { return try floats(file) }
        guard !c.concat.isEmpty else { return [] }
        let parts = try c.concat.map { name in try floats(cases.first { $0.name == name && $0.samples != nil }!.samples!) }
        var out: [Float] = []
        while out.count < c.sampleCount { for p in parts { out += p } }
        return Array(out.prefix(c.sampleCount))
    }
}
