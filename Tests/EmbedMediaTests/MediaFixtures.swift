import EmbedMedia
import EmbedSys

/// The committed golden files (Tests/Fixtures/media, made by tools/make-golden-media.py).
enum MediaFixtures {
    static let dir: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // EmbedMediaTests/MediaFixtures.swift
        return parts.joined(separator: "/") + "/Fixtures/media"
    }()

    struct Entry: Sendable, CustomStringConvertible {
        let name: String
        let width: Int
        let height: Int
        /// "exact", "jpeg" or "png16a" (see the manifest's header).
        let compare: String
        var description: String { name }
    }

    static let entries: [Entry] = manifest(dir + "/manifest.txt")

    static func manifest(_ path: String) -> [Entry] {
        guard let text = try? FileSystem.readFile(path) else { return [] }
        return String(decoding: text, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let f = line.split(separator: " ")
            guard f.count >= 4, let w = Int(f[1]), let h = Int(f[2]) else { return nil }
            return Entry(name: String(f[0]), width: w, height: h, compare: String(f[3]))
        }
    }

    static func bytes(_ name: String) -> [UInt8] {
        (try? FileSystem.readFile(dir + "/" + name)) ?? []
    }

    /// How far a decode is from the reference: the largest channel difference and how many
    /// pixels differ at all.
    struct Deviation: CustomStringConvertible {
        var maxDiff = 0
        var pixelsDiffering = 0
        var pixels = 0
        var fraction: Double { pixels == 0 ? 0 : Double(pixelsDiffering) / Double(pixels) }
        var description: String { "max \(maxDiff) LSB, \(pixelsDiffering)/\(pixels) pixels differ" }
    }

    static func deviation(_ a: [UInt8], _ b: [UInt8]) -> Deviation {
        var d = Deviation(pixels: min(a.count, b.count) / 3)
        for p in 0..<d.pixels {
            var differs = false
            for c in 0..<3 {
                let diff = abs(Int(a[3 * p + c]) - Int(b[3 * p + c]))
                if diff > 0 { differs = true; d.maxDiff = max(d.maxDiff, diff) }
            }
            if differs { d.pixelsDiffering += 1 }
        }
        return d
    }
}

