import EmbedMedia
@testable import EmbedVision
import Testing

/// `ImageProcessor` against transformers' Pillow-backend processors: the uint8 crop pixel for
/// pixel, and pixel_values within 1e-6 (in practice bit for bit).
struct GoldenProcessorTests {
    @Test(arguments: VisionFixtures.processCases)
    func matchesTransformers(_ c: VisionFixtures.Case) throws {
        let input = VisionFixtures.image(c)
        try #require(VisionFixtures.fnv(input.pixels) == c.inputDigest, "the synthetic input differs from the script's")
        let processor = try ImageProcessor(configFile: VisionFixtures.directory + "/configs/" + c.config!)
        if c.expected == "error" {
            #expect(throws: VisionError.self) { try processor.preprocess(input) }
            return
        }
        let crop = try processor.preprocess(input)
        let problem = try VisionFixtures.mismatch(crop, expected: c.expected, width: c.outWidth, height: c.outHeight)
        #expect(problem == nil, "\(c.name) (\(VisionFixtures.provenance)): \(problem ?? "")")
        let size = processor.outputSize(width: c.width, height: c.height)
        #expect(size.width == c.outWidth && size.height == c.outHeight)
        if let fixed = processor.fixedOutputSize { #expect(fixed.width == c.outWidth && fixed.height == c.outHeight) }

        guard let floats = c.floats else { return }
        var values = [Float](repeating: .nan, count: 3 * c.outWidth * c.outHeight)
        try values.withUnsafeMutableBufferPointer { try processor.pixelValues(input, into: $0.baseAddress!) }
        if floats.hasPrefix("fnv:") {
            let bytes = values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } }
            #expect(VisionFixtures.fnv(bytes) == floats.dropFirst(4), "\(c.name): float pixel_values differ")
        } else {
            let want = try VisionFixtures.floats(floats)
            try #require(want.count == values.count)
            let worst = zip(values, want).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-6, "\(c.name): pixel_values differ by up to \(worst)")
        }
    }
}
