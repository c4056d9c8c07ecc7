@testable import EmbedStore
import EmbedSys
import Testing

/// Documents kept beside metadata (`RecordPayload`) and the key-ordered scan (issue 26).
@Suite struct DocumentAndScanTests {
    static let dim = 8

    static func vector(_ i: Int) -> [Float] {
        var g = DataGen(seed: UInt64(i + 1))
        return (0..<dim).map { _ in g.uniform() - 0.5 }
    }

    static func record(_ i: Int, document: Bool = true) -> Record {
        Record(key: "k\(i)", vector: vector(i), metadata: i % 3 == 0 ? nil : "{\"i\":\(i),\"odd\":\(i % 2 == 1)}",
               document: document ? "{\"text\":\"record \(i) \\u0000 stays escaped\"}" : nil)
    }

    @Test func payloadSplitsAtTheFirstNul() {
        for (meta, doc) in [(nil, nil), ("{\"a\":1}", nil), (nil, "{\"text\":\"x\"}"), ("{\"a\":1}", "{\"text\":\"x\"}")] as [(String?, String?)] {
            let bytes = RecordPayload.encode(metadata: meta, document: doc)
            bytes.withUnsafeBytes { raw in
                #expect(String(decoding: RecordPayload.metadata(in: raw), as: UTF8.self) == (meta ?? ""))
                #expect(String(decoding: RecordPayload.document(in: raw), as: UTF8.self) == (doc ?? ""))
            }
        }
    }

    @Test func documentsSurviveGetSearchReplayCheckpointAndCompaction() throws {
        let dir = TempDirectory("documents")
        defer { dir.cleanup() }
        var records = (0..<60).map { Self.record($0, document: $0 % 5 != 0) }
        func check(_ c: VectorCollection, _ what: String) throws {
            for r in records {
                let got = try c.get(r.key)
                #expect(got?.metadata == r.metadata, "\(what): metadata of \(r.key)")
                #expect(got?.document == r.document, "\(what): document of \(r.key)")
                let hit = try c.search(r.vector, k: 1).first
                #expect(hit?.key == r.key && hit?.document == r.document && hit?.metadata == r.metadata, "\(what): hit of \(r.key)")
            }
            // A filter reads the metadata only, never the document after it.
            let odd = try c.search(Self.vector(1), k: 60, filter: MetadataFilter(json: "{\"odd\":true}"))
            #expect(Set(odd.map(\.key)) == Set(records.filter { $0.metadata?.contains("\"odd\":true") == true }.map(\.key)), "\(what)")
        }
        do {
            let catalog = try StoreCatalog(directory: dir.path)
            let c = try catalog.create("d", config: CollectionConfig(dimension: Self.dim))
            try c.upsert(records)
            try check(c, "after upsert")
            c.abandon()  // no checkpoint: the next open replays the log
        }
        let catalog = try StoreCatalog(directory: dir.path)
        let c = try catalog.open("d")
        try check(c, "replayed from the log")
        try c.waitForIndexing()
        try c.checkpoint()
        try catalog.closeAll()
        let again = try StoreCatalog(directory: dir.path)
        let d = try again.open("d")
        try check(d, "from the snapshot")
        _ = try d.delete(["k7"])
        try d.waitForIndexing()
        try d.optimize()
        #expect(try d.get("k7") == nil)
        records.removeAll { $0.key == "k7" }
        try check(d, "after compaction")
        try again.closeAll()
    }

    @Test func documentsAreCheckedBeforeAnythingIsWritten() throws {
        let dir = TempDirectory("document-limits")
        defer { dir.cleanup() }
        let catalog = try StoreCatalog(directory: dir.path)
        let c = try catalog.create("d", config: CollectionConfig(dimension: Self.dim))
        let big = "{\"text\":\"" + String(repeating: "x", count: VectorCollection.maxDocumentBytes) + "\"}"
        #expect(throws: StoreError.self) { try c.upsert([Record(key: "a", vector: Self.vector(1), document: big)]) }
        #expect(throws: StoreError.self) { try c.upsert([Record(key: "a", vector: Self.vector(1), document: "{\"a\":\"\0\"}")]) }
        #expect(c.count == 0)
        try catalog.closeAll()
    }

    @Test func scanPagesThroughEveryLiveKeyInByteOrder() throws {
        let dir = TempDirectory("scan")
        defer { dir.cleanup() }
        let catalog = try StoreCatalog(directory: dir.path)
        let c = try catalog.create("s", config: CollectionConfig(dimension: Self.dim))
        // Keys whose byte order differs from Swift's String order and from insertion order.
        var keys = (0..<500).map { "k\($0)" } + ["é", "e\u{301}", "Z", "a", "a\u{0}b", "🙂", "k1 "]
        try c.upsert(keys.enumerated().map { Record(key: $1, vector: Self.vector($0), metadata: "{\"n\":\($0 % 10)}") })
        let original = keys
        _ = try c.delete(["k10", "k11", "zzz-absent"])
        keys.removeAll { $0 == "k10" || $0 == "k11" }
        try c.upsert([Record(key: "k12", vector: Self.vector(999), metadata: "{\"n\":42}")])  // replaced: listed once
        let expected = keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for limit in [1, 7, 100, 1000] {
            var seen: [String] = []
            var cursor: String? = nil
            repeat {
                let page = try c.scan(after: cursor, limit: limit)
                #expect(page.records.count <= limit)
                seen += page.records.map(\.key)
                cursor = page.next
                #expect(page.records.allSatisfy { $0.vector.isEmpty })
            } while cursor != nil
            #expect(seen == expected, "limit \(limit)")
        }
        // After a key that does not exist; the filter; vectors as stored.
        let tail = try c.scan(after: "k99", limit: 1000)
        #expect(tail.records.map(\.key) == expected.filter { $0.utf8.lexicographicallyPrecedes("k99".utf8) == false && $0 != "k99" })
        let filtered = try c.scan(limit: 1000, filter: MetadataFilter(json: "{\"n\":3}"))
        #expect(filtered.records.map(\.key) == expected.filter { k in
            original.firstIndex(of: k).map { $0 % 10 == 3 && k != "k12" } ?? false
        })
        let withVectors = try c.scan(after: "k4", limit: 1, vectors: true)
        #expect(withVectors.records.first.map { $0.vector == Self.vector(original.firstIndex(of: $0.key)!) } == true)
        // A byte bound cuts a page short but never returns an empty page while records remain.
        let small = try c.scan(limit: 100, vectors: true, bytesLimit: 200)
        #expect(small.records.count >= 1 && small.records.count < 100 && small.next == small.records.last?.key)
        #expect(throws: StoreError.self) { try c.scan(limit: 0) }
        #expect(throws: StoreError.self) { try c.scan(limit: VectorCollection.maxScanLimit + 1) }
        try catalog.closeAll()
    }
}
