@testable import EmbedStore
import EmbedSys
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

    /// A few deletions (below the repair threshold) leave tombstones in the graph: searches
    /// walk through them but never return them, and still return k results.
    @Test(arguments: [Metric.l2, .cosine, .innerProduct])
    func tombstonesAreWalkedButNeverReturned(metric: Metric) throws {
        let dir = TempDirectory("tombstones-\(metric)")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 17)
        let (items, queries) = gen.clustered(n: 3000, queries: 10, dim: 16)
        let (catalog, c) = try makeCollection(dir, dim: 16, metric: metric)
        try upsertAll(c, items)
        try c.waitForIndexing()
        // Each query's exact top 3 go (30 of 3000: 1 %, under the 2 % that starts a repair).
        var gone = Set<Int>()
        for q in queries { gone.formUnion(BruteForce.topK(q, items, k: 3, metric: metric)) }
        #expect(try c.delete(gone.map(String.init)) == gone.count)
        #expect(c.stats().deleted == gone.count && c.stats().nodes == 3000, "the tombstones are still in the graph")
        for q in queries {
            let hits = try c.search(q, k: 10)
            #expect(hits.count == 10)
            #expect(hits.allSatisfy { !gone.contains(Int($0.key)!) }, "a deleted record came back")
            let truth = Set(BruteForce.topK(q, items, k: 10, metric: metric, include: { !gone.contains($0) }).map(String.init))
            #expect(Set(hits.map(\.key)).intersection(truth).count >= 8)
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

/// The crash test's workload without the crashes: a small key space rewritten over and over
/// (upserts of 1–8 records, one call in ten a delete), so most nodes are tombstones and the
/// graph is repaired and compacted many times. Every live record must keep its vector and stay
/// reachable and findable by it, across a checkpoint and reopen too.
@Suite struct ChurnTests {
    @Test func heavyRewriteKeepsEveryRecordFindable() throws {
        let dir = TempDirectory("churn")
        defer { dir.cleanup() }
        var gen = DataGen(seed: Environment.get("STORE_CHURN_SEED").flatMap { UInt64($0) } ?? 77)
        let keySpace = 3000, dim = 16
        var (catalog, c) = try makeCollection(dir, dim: dim, metric: .cosine)
        var current: [String: [Float]] = [:]
        for _ in 0..<12_000 {
            let n = Int(gen.next() % 8) + 1
            if gen.next() % 10 == 0 {
                let keys = (0..<n).map { _ in "k\(gen.next() % UInt64(keySpace))" }
                try c.delete(keys)
                for k in keys { current[k] = nil }
            } else {
                var records: [String: [Float]] = [:]
                for _ in 0..<n { records["k\(gen.next() % UInt64(keySpace))"] = gen.random(n: 1, dim: dim)[0] }
                try c.upsert(records.map { Record(key: $0.key, vector: $0.value) })
                current.merge(records) { $1 }
            }
        }
        // As acknowledged (indexer and repairs still behind), once indexed, and reopened.
        for phase in ["acknowledged", "indexed", "reopened"] {
            if phase == "reopened" {
                try catalog.closeAll()
                catalog = try StoreCatalog(directory: dir.path, options: OpenOptions(), logger: { _, _ in })
                c = try catalog.open("c")
            }
            if phase != "acknowledged" { try c.waitForIndexing() }
            let health = c.graphHealth()
            #expect(c.count == current.count)
            if phase != "acknowledged" {
                #expect(health.unreachable == 0, "\(phase): \(health)")
                // Tombstones are compacted away (OpenOptions.compaction*: ≥ 1000 and ≥ 30 %).
                #expect(health.nodes <= current.count + max(1000, current.count / 2), "\(phase): not compacted: \(health)")
            }
            for (key, v) in current { #expect(try c.get(key)?.vector == v, "\(phase): \(key)") }
            var missed: [String] = []
            for (key, v) in current where try !c.search(v, k: 5).contains(where: { $0.key == key }) { missed.append(key) }
            print("churn: \(phase): \(health); missed \(missed.count)")
            #expect(missed.isEmpty, "\(phase): \(missed.count) of \(current.count) not found by their own vector; \(c.graphHealth(key: missed.first))")
        }
        try catalog.closeAll()
    }
}

/// `optimize()`: a compaction on request that also numbers nodes in breadth-first graph order.
@Suite struct OptimizeTests {
    @Test func optimizeKeepsEveryRecordAndStoresNeighboursNearEachOther() throws {
        let dir = TempDirectory("optimize")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 5)
        let dim = 16
        let (items, _) = gen.clustered(n: 3000, queries: 1, dim: dim)
        // Inserted in a shuffled order, as real ingest is: ids carry no locality.
        var order = Array(items.indices)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(gen.next() % UInt64(i + 1))) }
        var (catalog, c) = try makeCollection(dir, dim: dim, metric: .l2)
        for chunk in stride(from: 0, to: order.count, by: 500) {
            try c.upsert(order[chunk..<min(order.count, chunk + 500)].map {
                Record(key: String($0), vector: items[$0], metadata: "{\"i\":\($0)}")
            })
        }
        _ = try c.delete((0..<100).map { String($0) })  // below the compaction thresholds
        try c.waitForIndexing()
        let before = c.graphHealth()
        try c.optimize()
        let after = c.graphHealth()
        print("optimize: pages per neighbour list \(before.neighbourPages) → \(after.neighbourPages); \(before) → \(after)")
        #expect(after.nodes == 2900 && after.unreachable == 0, "\(after)")
        #expect(after.neighbourPages < 0.9 * before.neighbourPages,
                "neighbours not stored closer: \(before.neighbourPages) → \(after.neighbourPages) pages per list")
        for phase in ["optimized", "reopened"] {
            if phase == "reopened" {
                try catalog.closeAll()
                catalog = try StoreCatalog(directory: dir.path)
                c = try catalog.open("c")
            }
            #expect(c.count == 2900, "\(phase)")
            for i in 0..<3000 {
                let got = try c.get(String(i))
                if i < 100 { #expect(got == nil, "\(phase): k\(i) was deleted"); continue }
                #expect(got?.vector == items[i] && got?.metadata == "{\"i\":\(i)}", "\(phase): k\(i)")
            }
            let r = try recall(c, queries: Array(items[100..<300]), items: items, include: { $0 >= 100 })
            #expect(r >= 0.95, "\(phase): recall \(r)")
        }
        try catalog.closeAll()
    }
}

/// The graph algorithms on a hand-built store: an entry point whose whole region is deleted
/// must not strand the nodes inserted after it.
@Suite struct StrandedRegionTests {
    /// Two islands, A (holding the entry point) and B, linked only within themselves; then
    /// all of A is deleted.
    static func islands() throws -> NodeStore {
        let s = try NodeStore(dimension: 4, metric: .l2, m: 4)
        var gen = DataGen(seed: 3)
        for (i, v) in gen.random(n: 20, dim: 4).enumerated() {
            let id = try v.withUnsafeBufferPointer { vb throws(Errno) in try s.append(vector: vb, invNorm: 1, key: Array("k\(i)".utf8), metadata: []) }
            try s.assignLevel(id, level: 0)
            let base = i / 10 * 10  // each node links to the next 8 of its island, cyclically
            s.setLinks(id, level: 0, (1...8).map { UInt32(base + (i - base + $0) % 10) })
        }
        s.entryPoint = 0
        s.maxLevel = 0
        for i in 0..<10 { s.markDeleted(UInt32(i)) }
        return s
    }

    @Test func insertionBehindADeletedRegionLinksToLiveNodes() throws {
        let s = try StrandedRegionTests.islands()
        let v: [Float] = [0.1, 0.2, 0.3, 0.4]
        let id = try v.withUnsafeBufferPointer { vb throws(Errno) in try s.append(vector: vb, invNorm: 1, key: Array("new".utf8), metadata: []) }
        let plan = HNSW.planInsert(s, id: id, level: 0, efConstruction: 16, scratch: SearchScratch(nodeCount: 0))
        #expect(plan.scanned)
        #expect(!plan.links[0].isEmpty && plan.links[0].allSatisfy { $0 >= 10 && $0 < 20 }, "links \(plan.links)")
        #expect(plan.updates.contains { $0.0 >= 10 }, "a live neighbour links back")
    }

    @Test func entryPointMovesToTheLiveIsland() throws {
        let s = try StrandedRegionTests.islands()
        HNSW.fixEntryPoint(s)
        #expect(s.entryPoint.map { $0 >= 10 } == true)
        var reached = [Bool](repeating: false, count: s.count)
        HNSW.markReachable(s, from: s.entryPoint!, reached: &reached)
        #expect((10..<20).allSatisfy { reached[$0] })
        #expect(!reached[0])
    }
}
