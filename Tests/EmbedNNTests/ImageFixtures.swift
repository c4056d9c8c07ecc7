import EmbedNN
import EmbedSys

/// The image golden files (Tests/Fixtures/image, from tools/make-golden-image.py) and the
/// inputs they were made from, rebuilt here bit for bit.
enum ImageFixtures {
    static let fixtureDir: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // EmbedNNTests/ImageFixtures.swift
        return parts.joined(separator: "/") + "/Fixtures/image"
    }()

    /// The committed tiny ResNets (make-golden-image.py's TINY).
    static let tinyModels = ["resnet-tiny-bottleneck", "resnet-tiny-basic", "resnet-tiny-v1"]

    /// One golden file's input: `count` images of `height`×`width` from `seed`.
    struct Case: Sendable, CustomStringConvertible {
        let height: Int, width: Int, count: Int, seed: UInt32
        var fileSuffix: String { "\(height)x\(width).n\(count).s\(seed).f32" }
        var description: String { "\(count)×\(height)×\(width) seed \(seed)" }
    }

    /// make-golden-image.py's TINY_CASES and FULL_CASES.
    static let tinyCases = [Case(height: 224, width: 224, count: 4, seed: 1), Case(height: 160, width: 192, count: 3, seed: 2),
                            Case(height: 37, width: 53, count: 2, seed: 3), Case(height: 224, width: 224, count: 16, seed: 4)]
    static let fullCases = [Case(height: 224, width: 224, count: 4, seed: 1), Case(height: 160, width: 192, count: 2, seed: 2),
                            Case(height: 224, width: 224, count: 16, seed: 4)]

    /// The full-size random ResNet-50: `$EMBEDD_MODELS_DIR/resnet-50-random`, else
    /// `<repo>/models/resnet-50-random` (made by `tools/make-golden-image.py full DIR`).
    static let fullModel: String = TextFixtures.modelsDir + "/resnet-50-random"
    static var hasFullModel: Bool { FileSystem.isRegularFile(fullModel + "/golden/" + fullCases[0].fileSuffix) }

    /// `pixels()` of make-golden-image.py: 4×4 blocks of hashed uint8 values, normalised with
    /// the ImageNet mean and std in float32 (the same operations, so the same bits);
    /// make-golden-clip.py's uses CLIP's mean and std.
    static func pixels(_ c: Case, mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]) -> [Float] {
        var out = [Float](repeating: 0, count: c.count * 3 * c.height * c.width)
        var i = 0
        for n in 0..<UInt32(c.count) {
            for ch in 0..<3 {
                for y in 0..<UInt32(c.height) {
                    for x in 0..<UInt32(c.width) {
                        var h = (c.seed &* 0x9E37_79B1) ^ (n &* 0x85EB_CA77) ^ (UInt32(ch) &* 0xC2B2_AE3D)
                            ^ ((y / 4) &* 0x27D4_EB2F) ^ ((x / 4) &* 0x1656_67B1)
                        h ^= h >> 15
                        h = h &* 0x2C1B_3C6D
                        h ^= h >> 12
                        h = h &* 0x297A_2D39
                        h ^= h >> 15
                        let v = Float(h >> 24) / 255
                        out[i] = (v - mean[ch]) / std[ch]
                        i += 1
                    }
                }
            }
        }
        return out
    }

    /// Little-endian float32 vectors of `dimension`.
    static func vectors(_ path: String, dimension: Int) throws -> [[Float]] {
        let bytes = try FileSystem.readFile(path)
        let floats = bytes.withUnsafeBytes { raw in
            (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        return stride(from: 0, to: floats.count, by: dimension).map { Array(floats[$0..<($0 + dimension)]) }
    }

    /// Cosine, worst-element error relative to the reference's largest magnitude, and the cosine
    /// of the deviations from the first image (the random models give every image a large
    /// common component, so this is what tells images apart).
    static func compare(_ got: [[Float]], _ want: [[Float]]) -> (cosine: Double, relative: Double, deviation: Double) {
        var worstCos = 1.0, worstRel = 0.0, worstDev = 1.0
        for (g, w) in zip(got, want) {
            worstCos = min(worstCos, TextFixtures.cosine(g, w))
            let scale = Double(w.map { abs($0) }.max() ?? 1)
            worstRel = max(worstRel, zip(g, w).map { Double(abs($0 - $1)) }.max()! / scale)
        }
        for i in got.indices.dropFirst() {
            let dg = zip(got[i], got[0]).map { $0 - $1 }, dw = zip(want[i], want[0]).map { $0 - $1 }
            worstDev = min(worstDev, TextFixtures.cosine(dg, dw))
        }
        return (worstCos, worstRel, worstDev)
    }

    /// Copies a fixture model folder into a scratch directory (for tests that break it).
    static func copy(_ model: String, _ name: String) -> String {
        let d = TinyModel.scratch(name)
        for f in ["config.json", "model.safetensors", "preprocessor_config.json"] {
            TinyModel.write(d + "/" + f, try! FileSystem.readFile(fixtureDir + "/" + model + "/" + f))
        }
        return d
    }
}
