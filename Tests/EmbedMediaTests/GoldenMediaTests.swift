import EmbedMedia
import Testing

/// Every fixture decodes to Pillow's `exif_transpose(open(f)).convert("RGB")` bytes.
@Suite struct GoldenMediaTests {
    @Test func manifestIsPresent() {
        #expect(MediaFixtures.entries.count >= 50, "run tools/make-golden-media.py")
    }

    @Test(arguments: MediaFixtures.entries)
    func matchesPillow(_ entry: MediaFixtures.Entry) throws {
        let image = try ImageDecoder.decode(bytes: MediaFixtures.bytes(entry.name))
        let golden = MediaFixtures.bytes(entry.name + ".rgb")
        #expect(image.width == entry.width && image.height == entry.height,
                "\(entry.name): \(image.width)×\(image.height), Pillow \(entry.width)×\(entry.height)")
        try #require(image.pixels.count == golden.count)
        let d = MediaFixtures.deviation(image.pixels, golden)
        switch entry.compare {
        case "exact":
            #expect(d.maxDiff == 0, "\(entry.name): \(d)")
        case "jpeg":
            // Pillow's wheel bundles another libjpeg-turbo than Debian's (manifest header).
            #expect(d.maxDiff <= 1 && d.fraction <= 0.001, "\(entry.name): \(d)")
        case "png16a":
            // 16-bit RGBA with translucent pixels: libpng's simplified API premultiplies.
            #expect(d.maxDiff <= 1, "\(entry.name): \(d)")
        default:
            Issue.record("unknown comparison \(entry.compare)")
        }
    }

    @Test func declaredTypeIsOnlyAHint() throws {
        let png = MediaFixtures.bytes("rgb.png")
        let asDeclared = try ImageDecoder.decode(bytes: png, mimeType: "image/png")
        let misdeclared = try ImageDecoder.decode(bytes: png, mimeType: "image/jpeg")
        let undeclared = try ImageDecoder.decode(bytes: png, mimeType: "text/plain")
        #expect(asDeclared == misdeclared && asDeclared == undeclared)
    }

    @Test func mimeTypes() {
        #expect(ImageFormat(mimeType: "image/jpeg") == .jpeg)
        #expect(ImageFormat(mimeType: "IMAGE/JPG") == .jpeg)
        #expect(ImageFormat(mimeType: "image/png; charset=binary") == .png)
        #expect(ImageFormat(mimeType: "image/webp") == .webp)
        #expect(ImageFormat(mimeType: "image/gif") == nil)
        #expect(ImageFormat.allCases.map(\.mimeType) == ["image/jpeg", "image/png", "image/webp"])
    }

    @Test func orientationsTurnLikePillow() throws {
        // exif1…exif8.jpg share one picture: every orientation must reproduce exif_transpose.
        let upright = try ImageDecoder.decode(bytes: MediaFixtures.bytes("exif1.jpg"))
        for o in Orientation.allCases {
            let turned = try ImageDecoder.decode(bytes: MediaFixtures.bytes("exif\(o.rawValue).jpg"))
            #expect(turned == upright.applying(o), "orientation \(o.rawValue)")
        }
    }
}

/// One line with the JPEG deviation from Pillow over all JPEG fixtures, for the record
/// (bench/NOTES.md and docs/media.md quote it).
@Suite struct JPEGDeviationReport {
    @Test func summary() throws {
        var total = MediaFixtures.Deviation()
        for entry in MediaFixtures.entries where entry.compare == "jpeg" {
            let image = try ImageDecoder.decode(bytes: MediaFixtures.bytes(entry.name))
            let d = MediaFixtures.deviation(image.pixels, MediaFixtures.bytes(entry.name + ".rgb"))
            total.maxDiff = max(total.maxDiff, d.maxDiff)
            total.pixelsDiffering += d.pixelsDiffering
            total.pixels += d.pixels
        }
        print("JPEG fixtures vs Pillow: \(total)")
        #expect(total.maxDiff <= 1 && total.fraction <= 0.001)
    }
}
