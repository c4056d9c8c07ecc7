@testable import EmbedVision
import Testing

/// The size rules of `transformers`' image_transforms, checked against values worked out by hand.
struct ResizePlanTests {
    @Test func shortestEdgeTruncates() {
        // 640×480 → shorter side 256, longer int(256 * 640 / 480) = int(341.33) = 341.
        #expect(ResizePlan.shortestEdgeSize(height: 480, width: 640, edge: 256) == (256, 341))
        #expect(ResizePlan.shortestEdgeSize(height: 640, width: 480, edge: 256) == (341, 256))
        #expect(ResizePlan.shortestEdgeSize(height: 5, width: 5, edge: 7) == (7, 7))
    }

    @Test func resNetCropsTheMiddle() throws {
        let config = ImageProcessorConfig(kind: .convNext)
        var c = config
        c.size = .shortestEdge(224)
        let plan = ResizePlan(config: c, width: 640, height: 480)
        #expect(plan.resize! == (341, 256))
        #expect(plan.outputWidth == 224 && plan.outputHeight == 224)
        #expect(plan.offsetX == 58 && plan.offsetY == 16)
        #expect(plan.valid == PixelRect(x: 0, y: 0, width: 224, height: 224))
    }

    @Test func cropLargerThanImagePads() {
        var c = ImageProcessorConfig(kind: .clip)
        c.doResize = false
        c.cropSize = (height: 6, width: 3)
        let plan = ResizePlan(config: c, width: 5, height: 3)
        // rows: top = (3 - 6) // 2 = -2, so image rows land at 2...4; columns: left = (5 - 3) // 2 = 1.
        #expect(plan.offsetY == -2 && plan.offsetX == 1)
        #expect(plan.valid == PixelRect(x: 0, y: 2, width: 3, height: 3))
    }
}
