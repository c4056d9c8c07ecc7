@testable import EmbedStore
import EmbedSys
import Testing

/// The visited bits and their clearing between searches: listed ids only, or every word once a
/// search marked more than the list holds — by Swift's `insert` and by the C walk alike.
@Suite struct VisitedSetTests {
    @Test(arguments: [4, 1 << 14])
    func resetClearsEveryMark(listCapacity: Int) {
        let v = VisitedSet(capacity: 5000, listCapacity: listCapacity)
        for round in 0..<3 {
            v.reset(nodeCount: 5000)
            let ids = (0..<5000).filter { ($0 * 7 + round) % 3 == 0 }.map(UInt32.init)
            for id in ids { #expect(v.insert(id), "round \(round), id \(id) was marked before") }
            for id in ids { #expect(!v.insert(id)) }
            #expect((0..<5000).filter { v.contains(UInt32($0)) }.count == ids.count)
        }
        v.reset(nodeCount: 5000)
        #expect(!(0..<5000).contains { v.contains(UInt32($0)) })
    }

    @Test func growingStartsClear() {
        let v = VisitedSet(capacity: 10)
        #expect(v.insert(1000))
        v.reset(nodeCount: 100_000)
        #expect(!v.contains(1000))
        #expect(v.insert(99_999))
        #expect(!v.insert(99_999))
    }

    /// A ring of nodes, each linked to its next 8: a walk with ef ≥ the node count visits all.
    static func ring(_ n: Int) throws -> NodeStore {
        let s = try NodeStore(dimension: 8, metric: .l2, m: 8)
        var gen = DataGen(seed: 5)
        for (i, v) in gen.random(n: n, dim: 8).enumerated() {
            let id = try v.withUnsafeBufferPointer { vb throws(Errno) in try s.append(vector: vb, invNorm: 1, key: Array("k\(i)".utf8), metadata: []) }
            try s.assignLevel(id, level: 0)
            s.setLinks(id, level: 0, (1...8).map { UInt32((i + $0) % n) })
        }
        s.entryPoint = 0
        s.maxLevel = 0
        return s
    }

    @Test(arguments: [3, 1 << 14])
    func walksLeaveNoMarksBehind(listCapacity: Int) throws {
        let s = try VisitedSetTests.ring(300)
        let scratch = SearchScratch(nodeCount: 0, visitedListCapacity: listCapacity)
        var gen = DataGen(seed: 9)
        for q in gen.random(n: 4, dim: 8) {
            var codes = [Int8](repeating: 0, count: 8)
            let scale = q.withUnsafeBufferPointer { NodeStore.quantize($0.baseAddress!, 8, into: &codes) }
            let norm2 = q.reduce(0) { $0 + $1 * $1 }
            let walk = { (scratch: SearchScratch, ef: Int) in
                codes.withUnsafeBufferPointer { c in
                    s.walkLayer0(QuantizedQuery(codes: c.baseAddress!, scale: scale, norm2: norm2), entries: [(0, 0)], ef: ef,
                                 skipDeleted: false, scratch: scratch)!.map(\.1)
                }
            }
            let all = walk(scratch, 300)
            #expect(Set(all).count == 300, "a full walk reaches every node")
            let again = walk(scratch, 300), short = walk(scratch, 10)
            #expect(again == all)
            #expect(short == walk(SearchScratch(nodeCount: 0), 10), "a fresh scratch finds the same")
        }
    }
}
