@testable import EmbedStore
import EmbedSys
import Testing

/// The C layer-0 walk with a beam of 2 (two candidates expanded per step, what searches of big
/// collections use) against the best-first walk and brute force on the same graph.
@Suite struct WalkBeamTests {
    /// A single-layer graph over `items`, built by the store's own insertion.
    static func graph(_ items: [[Float]]) throws -> NodeStore {
        let s = try NodeStore(dimension: items[0].count, metric: .l2, m: 8)
        let scratch = SearchScratch(nodeCount: 0)
        for (i, v) in items.enumerated() {
            let id = try v.withUnsafeBufferPointer { vb throws(Errno) in
                try s.append(vector: vb, invNorm: 1, key: Array("k\(i)".utf8), metadata: [])
            }
            try HNSW.apply(s, HNSW.planInsert(s, id: id, level: 0, efConstruction: 64, scratch: scratch))
        }
        return s
    }

    @Test func beamTwoFindsWhatBestFirstFinds() throws {
        var gen = DataGen(seed: 21)
        let (items, queries) = gen.clustered(n: 3000, queries: 60, dim: 24)
        let s = try WalkBeamTests.graph(items)
        let scratch = SearchScratch(nodeCount: 0)
        let ef = 12
        var recall = [1: 0.0, 2: 0.0]
        var differing = 0
        for q in queries {
            var codes = [Int8](repeating: 0, count: q.count)
            let scale = q.withUnsafeBufferPointer { NodeStore.quantize($0.baseAddress!, q.count, into: &codes) }
            let truth = Set(BruteForce.topK(q, items, k: 10, metric: .l2))
            try codes.withUnsafeBufferPointer { c in
                let query = QuantizedQuery(codes: c.baseAddress!, scale: scale, norm2: q.reduce(0) { $0 + $1 * $1 })
                let entry = s.entryPoint!
                var walks: [[UInt32]] = []
                for beam in [1, 2] {
                    let found = try #require(s.walkLayer0(query, entries: [(s.approximateDistance(query, entry), entry)], ef: ef,
                                                          skipDeleted: false, beam: beam, scratch: scratch))
                    #expect(found.count == ef)
                    #expect(Set(found.map(\.1)).count == found.count, "beam \(beam): no node twice")
                    #expect(zip(found, found.dropFirst()).allSatisfy { $0.0 <= $1.0 }, "beam \(beam): nearest first")
                    recall[beam]! += Double(Set(found.prefix(10).map { Int($0.1) }).intersection(truth).count) / 10 / Double(queries.count)
                    walks.append(found.map(\.1))
                }
                if walks[0] != walks[1] { differing += 1 }
            }
        }
        #expect(differing > 0, "beam 2 took effect (another order of expansion reaches other far candidates)")
        #expect(recall[1]! >= 0.85, "best-first recall (the walk's approximate top 10, not re-ranked) \(recall[1]!)")
        #expect(recall[2]! >= recall[1]! - 0.01, "beam 2 recall \(recall[2]!) vs best-first \(recall[1]!)")
    }

    @Test func searchBeamFollowsTheSizeOfTheGraph() throws {
        let small = try NodeStore(dimension: 128, metric: .l2, m: 16)
        #expect(small.searchBeam == 1)
        small.count = NodeStore.beamThresholdBytes / small.stride + 1  // the rule reads only the size
        #expect(small.searchBeam == 2)
        let wide = try NodeStore(dimension: 384, metric: .l2, m: 16)
        wide.count = NodeStore.beamThresholdBytes / wide.stride + 1
        #expect(wide.searchBeam == 1, "codes of 7 cache lines keep best-first order")
    }
}
