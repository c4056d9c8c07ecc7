@testable import EmbedStore
import Testing

/// Recall@10 at the default ef against brute force, per metric and data shape.
@Suite struct RecallTests {
    @Test(arguments: [Metric.cosine, .l2, .innerProduct], ["random", "clustered"])
    func recallAtDefaultEf(metric: Metric, shape: String) throws {
        let dir = TempDirectory("recall-\(metric)-\(shape)")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 42)
        let n = 4000, dim = 32
        let (items, queries) = shape == "random"
            ? (gen.random(n: n, dim: dim), gen.random(n: 100, dim: dim))
            : gen.clustered(n: n, queries: 100, dim: dim)
        let (catalog, c) = try makeCollection(dir, dim: dim, metric: metric)
        try upsertAll(c, items)
        try c.waitForIndexing()
        #expect(c.stats().unindexed == 0)
        let r = try recall(c, queries: queries, items: items)
        #expect(r >= 0.95, "recall@10 \(r) for \(metric) on \(shape) data")
        // Scores are the metric's natural form: check the top hit's score against brute force.
        let q = queries[0]
        let top = try c.search(q, k: 1)[0]
        let d = BruteForce.distance(q, items[Int(top.key)!], metric)
        let expected: Float = metric == .cosine ? 1 - d : metric == .l2 ? d.squareRoot() : -d
        #expect(abs(top.score - expected) <= 1e-3 * max(1, abs(expected)))
        try catalog.closeAll()
    }

    /// Re-ranking only the best 2·k of ef candidates exactly keeps recall (the codes order
    /// the candidates well) and every reported score is still the exact distance.
    @Test func partialRerankKeepsRecallAndExactScores() throws {
        let dir = TempDirectory("rerank")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 11)
        let dim = 48
        let (items, queries) = gen.clustered(n: 4000, queries: 100, dim: dim)
        let (catalog, c) = try makeCollection(dir, dim: dim, metric: .l2)
        try upsertAll(c, items)
        try c.waitForIndexing()
        try catalog.closeAll()
        var recalls: [Int: Double] = [:]
        for factor in [Int.max, 2] {
            let cat = try StoreCatalog(directory: dir.path, options: OpenOptions(rerankFactor: factor))
            let reopened = try cat.open("c")
            recalls[factor] = try recall(reopened, queries: queries, items: items, ef: 100)
            for q in queries.prefix(20) {
                let hits = try reopened.search(q, k: 10, ef: 100)
                #expect(hits.count == 10)
                for (a, b) in zip(hits, hits.dropFirst()) { #expect(a.score <= b.score) }
                for h in hits {
                    let exact = BruteForce.distance(q, items[Int(h.key)!], .l2).squareRoot()
                    #expect(abs(h.score - exact) <= 1e-3 * max(1, exact), "score of \(h.key) is not its exact distance")
                }
            }
            try cat.closeAll()
        }
        #expect(recalls[2]! >= 0.95)
        #expect(recalls[2]! >= recalls[Int.max]! - 0.01, "recall with 2·k re-ranked \(recalls[2]!) vs all \(recalls[Int.max]!)")
    }

    /// An ef beyond the walk's initial candidate buffer (4 096) grows it and walks again; with
    /// ef ≥ the collection size the answer is the exact one, and later searches still work.
    @Test func hugeEfGrowsTheWalkBuffers() throws {
        let dir = TempDirectory("huge-ef")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 77)
        let items = gen.random(n: 6000, dim: 8)
        let (catalog, c) = try makeCollection(dir, dim: 8, metric: .l2)
        try upsertAll(c, items)
        try c.waitForIndexing()
        for q in items.prefix(5) {
            let exact = BruteForce.topK(q, items, k: 10, metric: .l2).map(String.init)
            #expect(try c.search(q, k: 10, ef: 6000).map(\.key) == exact)
            #expect(try recall(c, queries: [q], items: items, ef: 64) >= 0.9)
        }
        try catalog.closeAll()
    }

    @Test func searchSeesUnindexedRecordsAtOnce() throws {
        let dir = TempDirectory("unindexed")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 7)
        let items = gen.random(n: 300, dim: 8)
        let (catalog, c) = try makeCollection(dir, dim: 8, metric: .l2)
        for (i, v) in items.enumerated() {
            try c.upsert([Record(key: String(i), vector: v)])
            // Acknowledged ⇒ searchable, whether or not the indexer has linked it yet.
            #expect(try c.search(v, k: 1).first?.key == String(i))
        }
        try catalog.closeAll()
    }
}

/// `searchIfQuick`, the event loop's search: the same answer as `search` when it runs, nil
/// (and no wait) when a writer holds the collection or too many records await the indexer.
@Suite struct QuickSearchTests {
    @Test func answersAsSearchDoesOrDeclinesWithoutWaiting() throws {
        let dir = TempDirectory("quick")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 11)
        let (items, queries) = gen.clustered(n: 2000, queries: 20, dim: 16)
        let (catalog, c) = try makeCollection(dir, dim: 16, metric: .l2)
        try upsertAll(c, items)
        try c.waitForIndexing()
        for q in queries {
            let quick = try #require(try c.searchIfQuick(q, k: 10, ef: 64))
            let full = try c.search(q, k: 10, ef: 64)
            #expect(quick.map(\.key) == full.map(\.key))
            #expect(quick.map(\.score) == full.map(\.score))
        }
        // Bad input is refused as by `search`, not declined.
        #expect(throws: StoreError.self) { _ = try c.searchIfQuick([1, 2], k: 10) }
        #expect(throws: StoreError.self) { _ = try c.searchIfQuick(queries[0], k: 0) }

        // A writer holds the collection: declined at once.
        var whileHeld: [SearchHit]?? = nil
        c.withExclusiveStateForTesting {
            do { whileHeld = .some(try c.searchIfQuick(queries[0], k: 10)) } catch { Issue.record(error) }
        }
        #expect(whileHeld == .some(nil))

        // An answer that needs an exact scan of more nodes than the limit (k ≥ the live
        // count): declined; `search` scans.
        #expect(try c.searchIfQuick(queries[0], k: 2000, ef: 16) == nil)
        #expect(try c.search(queries[0], k: 2000, ef: 16).count == 2000)

        // Records the indexer has not linked yet are compared exactly, one by one: past
        // `maxUnindexed` of them the search is declined; `search` still sees them all.
        let extra = gen.random(n: 50, dim: 16)
        try c.withIndexerHeldForTesting {
            try c.upsert(extra.enumerated().map { Record(key: "x\($0.offset)", vector: $0.element) })
            #expect(c.stats().unindexed == 50)
            #expect(try c.searchIfQuick(extra[3], k: 1, maxUnindexed: 49) == nil)
            #expect(try c.searchIfQuick(extra[3], k: 1, maxUnindexed: 50)?.first?.key == "x3")
            #expect(try c.search(extra[3], k: 1).first?.key == "x3")
        }
        try c.waitForIndexing()
        #expect(try c.searchIfQuick(extra[3], k: 1, maxUnindexed: 0)?.first?.key == "x3")
        try catalog.closeAll()
    }
}
