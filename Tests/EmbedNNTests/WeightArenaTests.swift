@testable import EmbedNN
import Testing

struct WeightArenaTests {
    @Test func packsMatricesBackToBackAndAligned() throws {
        let arena = WeightArena()
        let a = try arena.allocate(100)
        let b = try arena.allocate(1000)
        #expect(UInt(bitPattern: a) % 64 == 0 && UInt(bitPattern: b) % 64 == 0)
        #expect(b - a == 128)  // 100 rounded up to 64-byte lines
        #expect(arena.mappedBytes == WeightArena.chunkBytes)
        // The rest of the chunk, then a new one.
        let rest = WeightArena.chunkBytes - 128 - 1024
        let c = try arena.allocate(rest)
        #expect(c - b == 1024)
        let d = try arena.allocate(64)
        #expect(arena.mappedBytes == 2 * WeightArena.chunkBytes)
        d.storeBytes(of: 1, as: UInt8.self)
        c.storeBytes(of: 2, as: UInt8.self)
        #expect(d.load(as: UInt8.self) == 1)
    }

    @Test func aLargeMatrixGetsAChunkOfItsOwn() throws {
        let arena = WeightArena()
        _ = try arena.allocate(64)
        let big = try arena.allocate(WeightArena.chunkBytes + 1)
        #expect(UInt(bitPattern: big) % UInt(2 << 20) == 0)
        #expect(arena.mappedBytes >= 2 * WeightArena.chunkBytes + 1)
    }
}
