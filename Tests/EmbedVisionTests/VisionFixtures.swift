import EmbedMedia
import EmbedSys

/// The golden files of Tests/Fixtures/vision (made by tools/make-golden-vision.py with real
/// Pillow and transformers) and the synthetic input images they were made from.
enum VisionFixtures {
    static let directory: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // EmbedVisionTests/VisionFixtures.swift
        return parts.joined(separator: "/") + "/Fixtures/vision"
    }()

    /// One line of cases.txt.
    struct Case: Sendable, CustomStringConvertible {
        var kind: String        // "resize" or "process"
        var name: String
        var config: String?     // process: the configuration file under configs/
        var width: Int, height: Int
        var pattern: String, seed: UInt64
        var filter: Int?        // resize: Pillow's filter number
        var outWidth: Int, outHeight: Int
        var inputDigest: String
        var expected: String    // a file name, fnv:<hex> or "error"
        var floats: String?     // process: a file name, fnv:<hex>, or nil

        var description: String { name }
    }

    static let cases: [Case] = {
        let text = String(decoding: try! FileSystem.readFile(directory + "/cases.txt"), as: UTF8.self)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let f = line.split(separator: " ").map(String.init)
            if f[0] == "resize" {
                return Case(kind: "resize", name: f[1], config: nil, width: Int(f[2])!, height: Int(f[3])!,
                            pattern: f[4], seed: UInt64(f[5])!, filter: Int(f[6])!, outWidth: Int(f[7])!,
                            outHeight: Int(f[8])!, inputDigest: f[9], expected: f[10], floats: nil)
            }
            precondition(f[0] == "process", "cases.txt: \(line)")
            return Case(kind: "process", name: f[1], config: f[2], width: Int(f[3])!, height: Int(f[4])!,
                        pattern: f[5], seed: UInt64(f[6])!, filter: nil, outWidth: Int(f[7])!,
                        outHeight: Int(f[8])!, inputDigest: f[9], expected: f[10], floats: f[11] == "-" ? nil : f[11])
        }
    }()

    static var resizeCases: [Case] { cases.filter { $0.kind == "resize" } }
    static var processCases: [Case] { cases.filter { $0.kind == "process" } }

    /// The version line the golden files were made with.
    static let provenance: String = {
        let text = String(decoding: try! FileSystem.readFile(directory + "/cases.txt"), as: UTF8.self)
        return String(text.split(separator: "\n").first { $0.hasPrefix("#") } ?? "")
    }()

    static func bytes(_ file: String) throws -> [UInt8] { try FileSystem.readFile(directory + "/" + file) }

    static func floats(_ file: String) throws -> [Float] {
        let b = try bytes(file)
        return stride(from: 0, to: b.count, by: 4).map { (i: Int) -> Float in
            var bits: UInt32 = 0
            for k in 0..<4 { bits |= UInt32(b[i + k]) << (8 * k) }
            return Float(bitPattern: bits)
        }
    }

    /// splitmix64 of seed + (i + 1) × the golden ratio: the script's noise, value for value.
    static func splitmix(_ seed: UInt64, _ i: Int) -> UInt64 {
        var z = seed &+ UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_133111EB
        return z ^ (z >> 31)
    }

    /// The script's `synth(w, h, pattern, seed)` (see its docstring for the formula).
    static func image(width w: Int, height h: Int, pattern: String, seed: UInt64) -> RGBImage {
        var px = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    let i = (y * w + x) * 3 + c
                    let n = splitmix(seed, i)
                    if pattern == "noise" {
                        px[i] = UInt8(truncatingIfNeeded: n & 255)
                    } else {
                        let base = [x * 255 / max(w - 1, 1), y * 255 / max(h - 1, 1), (x + y) * 255 / max(w + h - 2, 1)][c]
                        let checker = (x / 8 + y / 8) % 2 == 0 ? 60 : 0
                        px[i] = UInt8(truncatingIfNeeded: (base * 3 / 4 + checker + Int(n % 32)) & 255)
                    }
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: px)
    }

    static func image(_ c: Case) -> RGBImage { image(width: c.width, height: c.height, pattern: c.pattern, seed: c.seed) }

    /// FNV-1a 64, as 16 lower-case hex digits.
    static func fnv(_ bytes: some Sequence<UInt8>) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// nil when `got` matches `expected` (a file or a digest); else what differs, with the first
    /// differing pixel, for the failure message.
    static func mismatch(_ got: RGBImage, expected: String, width: Int, height: Int) throws -> String? {
        guard got.width == width && got.height == height else {
            return "size \(got.width)×\(got.height), expected \(width)×\(height)"
        }
        if expected.hasPrefix("fnv:") {
            let d = fnv(got.pixels)
            return d == expected.dropFirst(4) ? nil : "digest \(d), expected \(expected)"
        }
        let want = try bytes(expected)
        guard want != got.pixels else { return nil }
        let diffs = zip(got.pixels, want).enumerated().filter { $0.element.0 != $0.element.1 }
        let first = diffs[0].offset
        let maxDiff = diffs.map { abs(Int($0.element.0) - Int($0.element.1)) }.max()!
        return "\(diffs.count) of \(want.count) bytes differ (max \(maxDiff)); first at x \(first / 3 % width), "
            + "y \(first / 3 / width), channel \(first % 3): \(got.pixels[first]) vs \(want[first])"
    }
}
