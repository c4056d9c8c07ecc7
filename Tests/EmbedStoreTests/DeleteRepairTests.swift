@testable import EmbedStore
import Testing

/// Deleting and replacing half of a collection must not make recall decay (the graph is
/// repaired, not just tombstoned): survivors' recall stays within 0.02 of a fresh build.
@Suite struct DeleteRepairTests {
    @Test(arguments: [Metric.l2, .cosine])
    func halfDeletedOrReplaced(metric: Metric) throws {
        let dir = TempDirectory("delete-\(metric)")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 99)
        let n = 4000, dim = 24
        let (original, queries) = gen.clustered(n: n, queries: 100, dim: dim, clusters: 20, spread: 0.6)
        let (replacements, _) = gen.clustered(n: n, queries: 0, dim: dim, clusters: 20, spread: 0.6)
        let (catalog, c) = try makeCollection(dir, dim: dim, metric: metric)
        try upsertAll(c, original)
        try c.waitForIndexing()
        // Delete a quarter, replace another quarter with new vectors (same keys).
        var survivors = original
        var alive = [Bool](repeating: true, count: n)
        let deleted = (0..<n).filter { $0 % 4 == 0 }
        let replaced = (0..<n).filter { $0 % 4 == 1 }
        #expect(try c.delete(deleted.map(String.init)) == deleted.count)
        for i in deleted { alive[i] = false }
        try c.upsert(replaced.map { Record(key: String($0), vector: replacements[$0]) })
        for i in replaced { survivors[i] = replacements[i] }
        try c.waitForIndexing()
        #expect(c.count == n - deleted.count)
        #expect(try c.get("0") == nil)
        #expect(try c.get("1")?.vector == replacements[1])

        let fresh = try catalog.create("fresh", config: c.config)
        try fresh.upsert((0..<n).filter { alive[$0] }.map { Record(key: String($0), vector: survivors[$0]) })
        try fresh.waitForIndexing()
        for ef in [10, 20] {
            let repaired = try recall(c, queries: queries, items: survivors, ef: ef, include: { alive[$0] })
            let rebuilt = try recall(fresh, queries: queries, items: survivors, ef: ef, include: { alive[$0] })
            #expect(repaired >= rebuilt - 0.02, "ef \(ef): after deletes \(repaired), fresh build \(rebuilt)")
        }
        // No deleted key ever comes back.
        for q in queries.prefix(20) {
            for hit in try c.search(q, k: 50) { #expect(alive[Int(hit.key)!]) }
        }
        try catalog.closeAll()
    }

    @Test func deleteEverythingThenReinsert() throws {
        let dir = TempDirectory("delete-all")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 5)
        let items = gen.random(n: 500, dim: 8)
        let (catalog, c) = try makeCollection(dir, dim: 8, metric: .l2)
        try upsertAll(c, items)
        try c.waitForIndexing()
        try c.delete((0..<500).map(String.init))
        try c.waitForIndexing()
        #expect(c.count == 0)
        #expect(try c.search(items[0], k: 5).isEmpty)
        try c.upsert([Record(key: "again", vector: items[3])])
        try c.waitForIndexing()
        #expect(try c.search(items[3], k: 5).map(\.key) == ["again"])
        try catalog.closeAll()
    }
}
