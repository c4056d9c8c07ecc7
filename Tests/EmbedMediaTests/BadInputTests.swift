@testable import EmbedMedia
import Testing

/// Hostile and broken inputs: each gives a `MediaError` naming the problem, none traps.
@Suite struct BadInputTests {
    func failure(_ bytes: [UInt8], mimeType: String? = nil, limits: ImageLimits = ImageLimits()) -> MediaError? {
        do { _ = try ImageDecoder.decode(bytes: bytes, mimeType: mimeType, limits: limits); return nil } catch { return error }
    }

    @Test func emptyInput() {
        #expect(failure([]) == .emptyInput)
        #expect(failure([])?.description == "empty input: zero bytes is not an image")
    }

    @Test func textNamedJPEG() {
        let e = failure(Array("hello world, this is text".utf8), mimeType: "image/jpeg")
        #expect(e?.description == "declared image/jpeg but not a JPEG, PNG or WebP image (starts with \"hello wo\")")
        #expect(failure(Array("hi".utf8))?.description == "not a JPEG, PNG or WebP image (starts with \"hi\")")
        #expect(failure(Array("GIF89a\u{1}\u{0}".utf8))?.description.hasPrefix("not a JPEG, PNG or WebP image (a GIF image") == true)
        #expect(failure([0, 1, 2, 0xFE])?.description == "not a JPEG, PNG or WebP image (starts with 00 01 02 fe)")
    }

    @Test func byteLimit() {
        let png = MediaFixtures.bytes("rgb.png")
        #expect(failure(png, limits: ImageLimits(maxBytes: 100)) == .tooManyBytes(count: png.count, limit: 100))
    }

    @Test(arguments: ["rgb.png", "q90-420.jpg", "lossy.webp", "animated.webp", "ga16.png"])
    func pixelLimit(_ name: String) {
        let e = failure(MediaFixtures.bytes(name), limits: ImageLimits(maxPixels: 1000))
        #expect(e == .tooManyPixels(width: 37, height: 29, limit: 1000), "\(name): \(String(describing: e))")
    }

    /// A PNG whose IHDR (valid CRC) declares 100000×100000, followed by a tiny IDAT: refused
    /// from the header, with the numbers in the message, before anything is allocated.
    @Test func decompressionBombHeader() {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func chunk(_ type: String, _ data: [UInt8]) {
            let t = Array(type.utf8)
            png += be32(UInt32(data.count)) + t + data + be32(CRC32.checksum(t + data))
        }
        chunk("IHDR", be32(100_000) + be32(100_000) + [8, 2, 0, 0, 0])
        chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
        chunk("IEND", [])
        #expect(failure(png)?.description == "image is 100000×100000 (10000000000 pixels); the limit is 50000000")
        // The header alone (the rest never arrives) is refused the same way.
        #expect(failure(Array(png.prefix(33))) == .tooManyPixels(width: 100_000, height: 100_000, limit: 50_000_000))
    }

    @Test func jpegAndWebPBombHeaders() {
        // A real JPEG whose SOF0 is patched to declare 65000×65000.
        var jpeg = MediaFixtures.bytes("q90-420.jpg")
        for i in 2..<(jpeg.count - 9) where jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0 {
            jpeg[i + 5] = 0xFD; jpeg[i + 6] = 0xE8; jpeg[i + 7] = 0xFD; jpeg[i + 8] = 0xE8
            break
        }
        let e = failure(jpeg)
        #expect(e == .tooManyPixels(width: 65000, height: 65000, limit: 50_000_000), "\(String(describing: e))")
        // A lossless WebP header declaring 16384×16384.
        var vp8l: [UInt8] = [0x2F]
        let bits: UInt32 = 16383 | 16383 << 14  // width-1, height-1, alpha 0, version 0
        vp8l += [UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24)]
        vp8l += [UInt8](repeating: 0, count: 11)
        let webp = Array("RIFF".utf8) + le32(UInt32(4 + 8 + vp8l.count)) + Array("WEBPVP8L".utf8) + le32(UInt32(vp8l.count)) + vp8l
        #expect(failure(webp) == .tooManyPixels(width: 16384, height: 16384, limit: 50_000_000))
    }

    @Test(arguments: ["q90-420.jpg", "progressive.jpg", "rgb.png", "rgb16.png", "ga16.png", "lossy.webp", "lossless.webp", "animated.webp"])
    func truncated(_ name: String) {
        let full = MediaFixtures.bytes(name)
        for keep in [full.count / 3, full.count / 2, full.count - 20] {
            let e = failure(Array(full.prefix(keep)))
            guard case .truncated = e else {
                Issue.record("\(name) cut to \(keep) bytes: \(String(describing: e))")
                continue
            }
        }
        // Cut inside the header: an error, never a crash.
        for keep in [3, 9, 13, 20, 30] { #expect(failure(Array(full.prefix(keep))) != nil, "\(name) cut to \(keep)") }
    }

    @Test func corruptPNG() {
        var png = MediaFixtures.bytes("rgb.png")
        png[png.count / 2] ^= 0xFF  // inside IDAT: the CRC no longer matches
        let e = failure(png)
        // zlib or the CRC check notices first, depending on where the byte falls.
        guard case .corrupt(.png, let detail) = e else { Issue.record("\(String(describing: e))"); return }
        #expect(!detail.isEmpty)
    }

    /// A damaged ancillary chunk costs only that chunk (libpng warns and skips it; Pillow refuses
    /// the file): docs/media.md. A damaged critical chunk is an error.
    @Test func pngChunkCRCs() throws {
        let png = MediaFixtures.bytes("rgb.png")
        let text: [UInt8] = [0, 0, 0, 13] + Array("tEXtComment\u{0}hello".utf8) + [0, 0, 0, 0]
        let withBadText = Array(png.prefix(33)) + text + Array(png.dropFirst(33))
        #expect(try ImageDecoder.decode(bytes: withBadText) == ImageDecoder.decode(bytes: png))
        var badHeader = png
        badHeader[29] ^= 1  // IHDR's CRC
        guard case .corrupt(.png, let detail) = failure(badHeader) else { Issue.record("IHDR CRC accepted"); return }
        #expect(detail.contains("CRC"), "\(detail)")
    }

    /// Pillow decodes a PNG whose IEND is missing (the image data is complete), and refuses a
    /// JPEG whose EOI is missing ("image file is truncated").
    @Test func missingEndMarkers() throws {
        let png = MediaFixtures.bytes("rgb.png")
        #expect(try ImageDecoder.decode(bytes: Array(png.dropLast(12))) == ImageDecoder.decode(bytes: png))
        let jpeg = MediaFixtures.bytes("q90-420.jpg")
        guard case .truncated(.jpeg, _) = failure(Array(jpeg.dropLast(2))) else { Issue.record("JPEG without EOI accepted"); return }
    }

    @Test func corruptJPEG() {
        var jpeg = MediaFixtures.bytes("q90-420.jpg")
        // Destroy the SOF0 marker: libjpeg reports the missing frame header in its own words.
        for i in 2..<(jpeg.count - 1) where jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0 { jpeg[i + 1] = 0x01; break }
        let e = failure(jpeg)
        guard case .corrupt(.jpeg, let detail) = e else { Issue.record("\(String(describing: e))"); return }
        #expect(!detail.isEmpty)
        // A damaged scan decodes (libjpeg conceals the damage; Pillow does the same).
        var scan = MediaFixtures.bytes("q90-420.jpg")
        scan[scan.count - 40] ^= 0x5A
        #expect(failure(scan) == nil || failure(scan) != nil)  // must simply not trap
    }

    @Test func corruptWebP() {
        var webp = MediaFixtures.bytes("lossy.webp")
        for i in 20..<min(60, webp.count) { webp[i] = 0xA5 }
        let e = failure(webp)
        #expect(e != nil)
        #expect(e?.description.contains("WebP") == true, "\(String(describing: e))")
    }

    func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    func le32(_ v: UInt32) -> [UInt8] { be32(v).reversed() }
}
