import Testing
@testable import EmbedSys

@Suite struct AllocatorTests {
    /// glibc's malloc_trim is found and gives back the pages of freed small blocks, which
    /// free() alone leaves in the arena (what kept retired model generations resident).
    @Test func trimReturnsFreedArenaMemory() {
        var blocks: [UnsafeMutableRawPointer] = []
        for _ in 0..<4096 {
            let p = UnsafeMutableRawPointer.allocate(byteCount: 16 << 10, alignment: 16)
            p.initializeMemory(as: UInt8.self, repeating: 1, count: 16 << 10)
            blocks.append(p)
        }
        // Free all but the last, which pins the arena's top: only a trim reaches the rest.
        for p in blocks.dropLast() { p.deallocate() }
        #expect(Allocator.trim(), "malloc_trim released nothing (or was not found)")
        blocks.last!.deallocate()
    }
}
