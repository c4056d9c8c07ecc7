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
