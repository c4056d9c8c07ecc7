import EmbedMedia
@testable import EmbedVision
import Testing

/// `PillowResize` against Pillow's `Image.resize` on every filter: pixel for pixel.
struct GoldenResizeTests {
    @Test(arguments: VisionFixtures.resizeCases)
    func matchesPillow(_ c: VisionFixtures.Case) throws {
        let input = VisionFixtures.image(c)
        try #require(VisionFixtures.fnv(input.pixels) == c.inputDigest, "the synthetic input differs from the script's")
        let filter = try #require(ResamplingFilter(rawValue: c.filter!))
        let got = PillowResize.resize(input, width: c.outWidth, height: c.outHeight, filter: filter)
        let problem = try VisionFixtures.mismatch(got, expected: c.expected, width: c.outWidth, height: c.outHeight)
        #expect(problem == nil, "\(c.name) (\(VisionFixtures.provenance)): \(problem ?? "")")
    }

    /// A window of the resize equals the same pixels of the full resize (what the fused crop relies on).
    @Test(arguments: ResamplingFilter.allCases)
    func windowEqualsFullResize(_ filter: ResamplingFilter) {
        let input = VisionFixtures.image(width: 97, height: 61, pattern: "noise", seed: 99)
        for (w, h) in [(40, 23), (211, 150), (97, 30), (50, 61), (90, 20), (120, 9)] {
            let full = PillowResize.resize(input, width: w, height: h, filter: filter)
            let window = PixelRect(x: w / 3, y: h / 4, width: w / 2, height: h / 2)
            var part = [UInt8](repeating: 0, count: window.width * window.height * 3)
            part.withUnsafeMutableBufferPointer {
                PillowResize.resize(input, width: w, height: h, filter: filter, window: window, into: $0.baseAddress!)
            }
            var expected: [UInt8] = []
            for y in window.y..<(window.y + window.height) {
                let start = (y * w + window.x) * 3
                expected += full.pixels[start..<(start + window.width * 3)]
            }
            #expect(part == expected, "\(filter) \(w)×\(h)")
        }
    }
}
