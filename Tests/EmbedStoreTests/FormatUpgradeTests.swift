@testable import EmbedStore
import EmbedSys
import Testing

/// A collection written by an older build (Tests/Fixtures/store-v1: snapshot format 1, plus
/// write-ahead-log records after its last checkpoint) opens with this build, answers exactly
/// as its history says, and is written in the current format at its next checkpoint.
@Suite struct FormatUpgradeTests {
    static let fixture: String = {
        let parts = "\(#filePath)".split(separator: "/").dropLast(3)
        return "/" + parts.joined(separator: "/") + "/Tests/Fixtures/store-v1"
    }()
    static let dim = 8

    static func vector(_ i: Int, version: Int) -> [Float] {
        var g = SplitMix64(seed: UInt64(i * 10 + version))
        return (0..<dim).map { _ in Float(g.next() >> 40) / Float(1 << 24) - 0.5 }
    }

    static func metadata(_ i: Int, version: Int) -> String { "{\"i\":\(i),\"v\":\(version)}" }

    /// Key → (vector, metadata) after the fixture's history (see `writeFixture`).
    static func expected() -> [String: ([Float], String)] {
        var out: [String: ([Float], String)] = [:]
        for i in 0..<340 { out["k\(i)"] = (vector(i, version: 0), metadata(i, version: 0)) }
        for i in 0..<30 { out["k\(i)"] = nil }
        for i in 30..<50 { out["k\(i)"] = (vector(i, version: 1), metadata(i, version: 1)) }
        for i in 50..<55 { out["k\(i)"] = nil }
        for i in 60..<65 { out["k\(i)"] = (vector(i, version: 2), metadata(i, version: 2)) }
        return out
    }

    /// How the fixture was made (run once with the build of the old format, then committed):
    /// `STORE_FIXTURE_OUT=DIR swift test --filter writeFixture`. A generator, not a check:
    /// skipped unless that variable is set.
    @Test(.enabled(if: Environment.get("STORE_FIXTURE_OUT") != nil, "generates the fixture; set STORE_FIXTURE_OUT"))
    func writeFixture() throws {
        guard let dir = Environment.get("STORE_FIXTURE_OUT") else { return }
        let catalog = try StoreCatalog(directory: dir)
        let c = try catalog.create("fx", config: CollectionConfig(dimension: Self.dim, metric: .l2))
        let rec = { (i: Int, v: Int) in Record(key: "k\(i)", vector: Self.vector(i, version: v), metadata: Self.metadata(i, version: v)) }
        try c.upsert((0..<300).map { rec($0, 0) })
        _ = try c.delete((0..<30).map { "k\($0)" })
        try c.upsert((30..<50).map { rec($0, 1) })
        try c.waitForIndexing()
        try c.checkpoint()
        // After the checkpoint: only in the write-ahead log.
        try c.upsert((300..<340).map { rec($0, 0) })
        _ = try c.delete((50..<55).map { "k\($0)" })
        try c.upsert((60..<65).map { rec($0, 2) })
        c.abandon()
    }

    static func check(_ c: VectorCollection, _ what: String) throws {
        let want = expected()
        #expect(c.stats().count == want.count, "\(what): count")
        for i in 0..<340 {
            let key = "k\(i)"
            let got = try c.get(key)
            guard let (v, meta) = want[key] else {
                #expect(got == nil, "\(what): \(key) was deleted")
                continue
            }
            #expect(got?.vector == v, "\(what): vector of \(key)")
            #expect(got?.metadata == meta, "\(what): metadata of \(key)")
            #expect(try c.search(v, k: 1).first?.key == key, "\(what): \(key) is not found by its own vector")
        }
        let even = try c.search(vector(7, version: 0), k: 5, filter: MetadataFilter(json: "{\"v\":1}"))
        #expect(even.count == 5 && even.allSatisfy { $0.metadata?.contains("\"v\":1") == true }, "\(what): filtered search")
    }

    @Test func olderSnapshotOpensAndIsRewrittenInTheCurrentFormat() throws {
        let dir = TempDirectory("upgrade")
        defer { dir.cleanup() }
        try FileSystem.makeDirectories(dir.path + "/fx")
        for name in ["collection.meta", "index.snap", "wal.log"] {
            try FileSystem.copyFile(from: Self.fixture + "/fx/" + name, to: dir.path + "/fx/" + name, permissions: 0o644)
        }
        let catalog = try StoreCatalog(directory: dir.path)
        let c = try catalog.open("fx")
        try Self.check(c, "opened from format 1")
        try c.waitForIndexing()
        try c.checkpoint()
        try catalog.closeAll()
        let header = try FileSystem.readFile(dir.path + "/fx/index.snap", limit: 12)
        #expect(header.count == 12 && UInt32(header[8]) | UInt32(header[9]) << 8 | UInt32(header[10]) << 16 | UInt32(header[11]) << 24
                == SnapshotFile.version, "the checkpoint wrote the current format")
        let again = try StoreCatalog(directory: dir.path)
        try Self.check(try again.open("fx"), "after the checkpoint in the current format")
        try again.closeAll()
    }
}
