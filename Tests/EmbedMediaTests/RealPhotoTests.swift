import EmbedMedia
import EmbedSys
import Testing

/// Real photos from Debian packages (tools/fetch-test-media) against Pillow references made by
/// `tools/make-golden-media.py --photos` (it needs Pillow, which CI lacks). Neither is
/// committed. With photos but no references every photo must still decode (the one Debian ships
/// truncated must fail); with neither, the test notes that it did nothing.
@Suite struct RealPhotoTests {
    static let dir: String = {
        if let d = Environment.get("EMBEDD_PHOTOS_DIR"), !d.isEmpty { return d }
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/bench/data/photos"
    }()

    @Test func photosMatchPillow() throws {
        guard let text = try? FileSystem.readFile(Self.dir + "/golden/manifest.txt") else {
            try decodeWithoutReferences()
            return
        }
        var jpeg = MediaFixtures.Deviation(), checked = 0
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: " ").map(String.init)
            let bytes = try FileSystem.readFile(Self.dir + "/" + f[0])
            if f[1] == "error" {  // Pillow refuses it: so must we, with an error, not a trap
                #expect(throws: MediaError.self, "\(f[0])") { try ImageDecoder.decode(bytes: bytes) }
                continue
            }
            let image = try ImageDecoder.decode(bytes: bytes)
            #expect(image.width == Int(f[1]) && image.height == Int(f[2]), "\(f[0])")
            let golden = try FileSystem.readFile(Self.dir + "/golden/" + f[4])
            try #require(image.pixels.count == golden.count, "\(f[0])")
            let d = MediaFixtures.deviation(image.pixels, golden)
            if f[3] == "jpeg" {
                #expect(d.maxDiff <= 1 && d.fraction <= 0.001, "\(f[0]): \(d)")
                jpeg.maxDiff = max(jpeg.maxDiff, d.maxDiff)
                jpeg.pixelsDiffering += d.pixelsDiffering
                jpeg.pixels += d.pixels
            } else {
                #expect(d.maxDiff == 0, "\(f[0]): \(d)")
            }
            checked += 1
        }
        print("RealPhotoTests: \(checked) photos; JPEG vs Pillow: \(jpeg)")
    }

    func decodeWithoutReferences() throws {
        var decoded = 0
        for sub in ["opencv", "skimage"] {
            guard let names = try? FileSystem.contentsOfDirectory(Self.dir + "/" + sub) else { continue }
            for name in names.sorted() {
                let bytes = try FileSystem.readFile(Self.dir + "/" + sub + "/" + name)
                if name == "truncated.jpg" {
                    #expect(throws: MediaError.self) { try ImageDecoder.decode(bytes: bytes) }
                } else {
                    #expect(throws: Never.self, "\(sub)/\(name)") { _ = try ImageDecoder.decode(bytes: bytes) }
                    decoded += 1
                }
            }
        }
        print("RealPhotoTests: \(decoded) photos decoded in \(Self.dir) (no Pillow references there: "
              + "tools/make-golden-media.py --photos makes them)")
    }
}
