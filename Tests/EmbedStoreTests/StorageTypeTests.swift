@testable import EmbedStore
import Foundation
import Testing

/// f16 and int8 storage: recall, what `get` returns, persistence, compaction, refusals.
@Suite struct StorageTypeTests {
    func make(_ dir: TempDirectory, dim: Int, metric: Metric, storage: StorageType) throws -> (StoreCatalog, VectorCollection) {
        let catalog = try StoreCatalog(directory: dir.path)
        return (catalog, try catalog.create("c", config: CollectionConfig(dimension: dim, metric: metric, storage: storage)))
    }

    /// Per-component bound on what storage may change: f16 rounds to 11 significant bits,
    /// int8 to ±scale/2 with scale = max|v|/127.
    func tolerance(_ v: [Float], _ storage: StorageType) -> (Float) -> Float {
        switch storage {
        case .f32: return { _ in 0 }
        case .f16: return { x in abs(x) * Float(0x1p-11) + Float(0x1p-24) }
        case .int8:
            let scale = v.map(abs).max()! / 127
            return { _ in scale * 0.5001 }
        }
    }

    @Test(arguments: [StorageType.f16, .int8], [Metric.cosine, .l2, .innerProduct])
    func recallAndStoredValues(storage: StorageType, metric: Metric) throws {
        let dir = TempDirectory("storage-\(storage)-\(metric)")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 9)
        let dim = 32
        let (items, queries) = gen.clustered(n: 4000, queries: 100, dim: dim)
        let (catalog, c) = try make(dir, dim: dim, metric: metric, storage: storage)
        try upsertAll(c, items)
        try c.waitForIndexing()
        // The search is right for what is stored (recall against brute force on the stored
        // vectors; measured 0.999–1.0), and what is stored is close enough to what was put
        // (recall against the original f32 vectors; measured f16 0.997–1.0, int8 0.969–0.982).
        let stored = try items.indices.map { try #require(try c.get(String($0))).vector }
        let r = try recall(c, queries: queries, items: stored)
        #expect(r >= 0.98, "recall@10 \(r) against the stored vectors, \(storage) storage, \(metric)")
        let original = try recall(c, queries: queries, items: items)
        #expect(original >= 0.95, "recall@10 \(original) against the originals, \(storage), \(metric)")
        // get returns the stored vector: within the storage's rounding of what was put.
        for i in [0, 1, 1234, 3999] {
            let got = try #require(try c.get(String(i))).vector
            let bound = tolerance(items[i], storage)
            for (x, y) in zip(items[i], got) { #expect(abs(x - y) <= bound(x), "component \(x) stored as \(y)") }
        }
        // Scores are the metric on the stored vector: close to the exact ones.
        let top = try c.search(queries[0], k: 1)[0]
        let d = BruteForce.distance(queries[0], items[Int(top.key)!], metric)
        let exact: Float = metric == .cosine ? 1 - d : metric == .l2 ? d.squareRoot() : -d
        #expect(abs(top.score - exact) <= (storage == .f16 ? 2e-3 : 3e-2) * max(1, abs(exact)), "score \(top.score) vs \(exact)")
        // The same bytes after a checkpoint and reopen, and after a log replay.
        let before = try (0..<50).map { try #require(try c.get(String($0))).vector }
        try c.checkpoint()
        let late = gen.random(n: 1, dim: dim)[0].map { $0 * 3 }  // its own best hit under every metric
        try c.upsert([Record(key: "late", vector: late)])  // in the log only
        let lateBefore = try #require(try c.get("late")).vector
        let lateHit = try c.search(late, k: 1)[0]
        #expect(lateHit.key == "late")
        c.abandon()  // no final checkpoint: "late" comes back by replaying the log
        _ = catalog
        let reopened = try StoreCatalog(directory: dir.path).open("c")
        #expect(reopened.config.storage == storage)
        for i in 0..<50 { #expect(try reopened.get(String(i))?.vector == before[i]) }
        #expect(try reopened.get("late")?.vector == lateBefore)
        // Replayed from the log, the record scores exactly as it did when it was upserted.
        let replayedHit = try reopened.search(late, k: 1)[0]
        #expect(replayedHit.key == "late" && replayedHit.score == lateHit.score, "\(replayedHit) vs \(lateHit)")
        #expect(try recall(reopened, queries: queries, items: stored) >= 0.95)
    }

    /// Compaction copies stored vectors byte for byte (re-encoding a decoded one could differ).
    @Test(arguments: [StorageType.f16, .int8], [Metric.l2, .cosine, .innerProduct])
    func compactionKeepsStoredVectorsExactly(storage: StorageType, metric: Metric) throws {
        let dir = TempDirectory("storage-compact-\(storage)-\(metric)")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 21)
        let items = gen.random(n: 1500, dim: 24)
        let (catalog, c) = try make(dir, dim: 24, metric: metric, storage: storage)
        try upsertAll(c, items)
        try c.waitForIndexing()
        _ = try c.delete((0..<1500).filter { $0 % 2 == 0 }.map(String.init))
        let before = try (0..<1500).filter { $0 % 2 == 1 }.map { try #require(try c.get(String($0))).vector }
        let scoresBefore = try Dictionary(uniqueKeysWithValues: c.search(items[1], k: 20, ef: 200).map { ($0.key, $0.score) })
        try c.optimize()
        #expect(c.stats().deleted == 0 && c.stats().nodes == 750)
        let after = try (0..<1500).filter { $0 % 2 == 1 }.map { try #require(try c.get(String($0))).vector }
        #expect(after == before)
        // Norms (and, for inner product, the lift's bound) are kept too: the same scores.
        for hit in try c.search(items[1], k: 20, ef: 200) {
            if let s = scoresBefore[hit.key] { #expect(s == hit.score, "\(hit.key): \(hit.score) after, \(s) before") }
        }
        let survivors = items.indices.filter { $0 % 2 == 1 }
        let r = try recall(c, queries: Array(items.prefix(50)), items: items, include: { $0 % 2 == 1 })
        #expect(r >= 0.95, "recall after compaction \(r) (\(survivors.count) survivors)")
        try catalog.closeAll()
    }

    @Test func smallerNodesAndRefusals() throws {
        let f32 = NodeStore.layout(dimension: 384, m: 16, storage: .f32).stride
        let f16 = NodeStore.layout(dimension: 384, m: 16, storage: .f16).stride
        let i8 = NodeStore.layout(dimension: 384, m: 16, storage: .int8).stride
        #expect(f32 == 2096 && f16 == 1328 && i8 == 560, "strides \(f32) \(f16) \(i8)")
        let dir = TempDirectory("storage-refuse")
        defer { dir.cleanup() }
        let (catalog, c) = try make(dir, dim: 3, metric: .l2, storage: .f16)
        do {
            try c.upsert([Record(key: "big", vector: [1, 70000, 2])])
            Issue.record("a component outside the f16 range was accepted")
        } catch {
            #expect("\(error)".contains("record 'big': component 1 (70000.0) is outside the range of collection 'c''s f16 storage"), "\(error)")
        }
        try c.upsert([Record(key: "edge", vector: [65504, -65504, 1e-8])])
        #expect(try c.get("edge")?.vector == [65504, -65504, 0])  // 1e-8 is below f16's smallest subnormal
        // int8 keeps tiny vectors (max|x| near the float32 minimum) as they are, zeros as zeros.
        let tinyStore = try catalog.create("i8", config: CollectionConfig(dimension: 4, metric: .l2, storage: .int8))
        // (127 / 3e-37 overflows Float: the codes must not become NaN, i.e. ±127 everywhere)
        try tinyStore.upsert([Record(key: "tiny", vector: [3e-37, -1.5e-37, 0, 6e-38])])
        let tiny = try #require(try tinyStore.get("tiny")).vector
        #expect(tiny[2] == 0 && abs(tiny[0] - 3e-37) <= 3e-39 && abs(tiny[1] + 1.5e-37) <= 3e-39 && abs(tiny[3] - 6e-38) <= 3e-39, "\(tiny)")
        let cosine = try catalog.create("cos", config: CollectionConfig(dimension: 3, metric: .cosine, storage: .f16))
        do {
            try cosine.upsert([Record(key: "tiny", vector: [1e-9, -1e-9, 2e-9])])
            Issue.record("a vector that f16 rounds to zero was accepted for cosine")
        } catch {
            #expect("\(error)".contains("record 'tiny': the vector is too small for collection 'cos''s f16 storage"), "\(error)")
        }
        try catalog.closeAll()
        // A snapshot whose storage disagrees with collection.meta is refused, naming the file.
        let other = TempDirectory("storage-mismatch")
        defer { other.cleanup() }
        let (cat2, c2) = try make(other, dim: 3, metric: .l2, storage: .f16)
        try c2.upsert([Record(key: "a", vector: [1, 2, 3])])
        try c2.checkpoint()
        try cat2.closeAll()
        let metaPath = other.path + "/c/collection.meta"
        try Data(CollectionMeta.encode(name: "c", config: CollectionConfig(dimension: 3, metric: .l2, storage: .f32)))
            .write(to: URL(fileURLWithPath: metaPath))
        do {
            _ = try StoreCatalog(directory: other.path).open("c")
            Issue.record("opened an f16 snapshot as f32")
        } catch {
            #expect("\(error)".contains("index.snap") && "\(error)".contains("storage code 2"), "\(error)")
        }
    }
}
