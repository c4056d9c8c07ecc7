import EmbedMedia
import EmbedSys
@testable import EmbedVision
import Testing

/// A one-off timing of the ResNet-50 pre-processing (not a timed test: it asserts nothing and runs
/// only with EMBEDD_VISION_TIMING=1). bench/image compares it with Pillow + transformers.
struct PreprocessTiming {
    @Test(.enabled(if: Environment.get("EMBEDD_VISION_TIMING") == "1"))
    func resNet640x480() throws {
        let processor = try ImageProcessor(configFile: VisionFixtures.directory + "/configs/resnet-50.json")
        for (w, h) in [(640, 480), (480, 640), (1920, 1080)] {
            let image = VisionFixtures.image(width: w, height: h, pattern: "smooth", seed: 1)
            var out = [Float](repeating: 0, count: 3 * 224 * 224)
            let runs = 300
            var best = Double.infinity, total = 0.0
            for _ in 0..<runs {
                let t0 = Clock.monotonicSeconds()
                try out.withUnsafeMutableBufferPointer { try processor.pixelValues(image, into: $0.baseAddress!) }
                let t = Clock.monotonicSeconds() - t0
                best = min(best, t)
                total += t
            }
            print("EmbedVision resnet-50 pixelValues \(w)×\(h): mean \(total / Double(runs) * 1e3) ms, best \(best * 1e3) ms")
            for f in ResamplingFilter.allCases {
                let t0 = Clock.monotonicSeconds()
                for _ in 0..<50 { _ = PillowResize.resize(image, width: 341, height: 256, filter: f) }
                print("  full resize to 341×256 \(f): \((Clock.monotonicSeconds() - t0) / 50 * 1e3) ms")
            }
        }
    }
}
