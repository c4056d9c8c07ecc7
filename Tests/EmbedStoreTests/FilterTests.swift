@testable import EmbedStore
import EmbedJSON
import Testing

/// Filtered search: only matching records, and k of them whenever k match.
@Suite struct FilterTests {
    static let colors = ["red", "green", "blue", "black", "white"]

    func metadata(_ i: Int) -> String {
        var m = "{\"color\":\"\(FilterTests.colors[i % 5])\",\"n\":\(i),\"even\":\(i % 2 == 0),\"tags\":[1,2]"
        if i % 571 == 0 { m += ",\"rare\":\"yes\"" }
        return m + "}"
    }

    @Test func filtersDuringTraversalAndFallsBackToExactScan() throws {
        let dir = TempDirectory("filter")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 11)
        let n = 4000
        let (items, queries) = gen.clustered(n: n, queries: 30, dim: 16)
        let (catalog, c) = try makeCollection(dir, dim: 16, metric: .l2)
        try upsertAll(c, items, metadata: metadata)
        try c.waitForIndexing()
        let rare = (0..<n).filter { $0 % 571 == 0 }  // 8 records
        let cases: [(MetadataFilter, (Int) -> Bool)] = [
            (MetadataFilter().equals("color", .string("red")), { $0 % 5 == 0 }),
            (MetadataFilter().in("color", [.string("green"), .string("blue")]), { $0 % 5 == 1 || $0 % 5 == 2 }),
            (MetadataFilter().equals("color", .string("red")).equals("even", .bool(true)), { $0 % 10 == 0 }),
            (MetadataFilter().in("n", [.number(7), .number(8), .number(9.0), .number(123456)]), { (7...9).contains($0) }),
            (MetadataFilter().equals("rare", .string("yes")), { rare.contains($0) }),
            (MetadataFilter().equals("tags", .number(1)), { _ in true }),  // an array field matches by element
            (MetadataFilter().equals("missing", .null), { _ in false }),
        ]
        for (filter, truth) in cases {
            let matching = (0..<n).filter(truth).count
            var total = 0.0
            for q in queries {
                let hits = try c.search(q, k: 10, filter: filter)
                #expect(hits.count == min(10, matching), "\(filter.root)")
                for h in hits { #expect(truth(Int(h.key)!), "\(h.key) does not match \(filter.root)") }
                let exact = Set(BruteForce.topK(q, items, k: 10, metric: .l2, include: truth).map(String.init))
                total += exact.isEmpty ? (hits.isEmpty ? 1 : 0) : Double(exact.intersection(hits.map(\.key)).count) / Double(exact.count)
            }
            let r = total / Double(queries.count)
            #expect(r >= 0.95, "filtered recall \(r) for \(filter.root)")
        }
        // Metadata comes back byte for byte.
        #expect(try c.search(items[5], k: 1, filter: MetadataFilter().equals("n", .number(5))).first?.metadata == metadata(5))
        try catalog.closeAll()
    }

    @Test func metadataScannerReadsTopLevelScalars() {
        let text = #"{"a":"x\"y\u00e9","b":-1.5e2,"c":[{"a":1}],"d":{"e":true},"f":null,"g":false}"#
        var seen: [String: MetadataValue?] = [:]
        let ok = Array(text.utf8).withUnsafeBytes { raw in
            MetadataJSON.forEachTopLevelScalar(in: raw) { name, value in seen[name] = value; return true }
        }
        #expect(ok)
        #expect(seen["a"] == .some(.string("x\"yé")))
        #expect(seen["b"] == .some(.number(-150)))
        #expect(seen["c"] == .some(nil))
        #expect(seen["d"] == .some(nil))
        #expect(seen["f"] == .some(.null))
        #expect(seen["g"] == .some(.bool(false)))
        for bad in ["[1]", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\":01}", "{} x", "\"s\"", "{\"a\":\"\u{01}\"}", "{\"a\":tru}"] {
            #expect(throws: StoreError.self, "\(bad)") {
                try Array(bad.utf8).withUnsafeBytes { raw in try MetadataJSON.validateObject(raw, key: "k") }
            }
        }
        // Strings and field names compare as bytes, as keys do: canonically equivalent spellings
        // are different values.
        let nfc = MetadataFilter().equals("caf\u{E9}", .string("caf\u{E9}"))
        let nfd = MetadataFilter().equals("cafe\u{301}", .string("cafe\u{301}"))
        let meta = Array(#"{"caf\#u{E9}":"caf\#u{E9}"}"#.utf8)
        meta.withUnsafeBytes { raw in
            #expect(nfc.matches(raw))
            #expect(!nfd.matches(raw))
        }
        #expect(MetadataFilter().equals("n", .number(1)).matches(UnsafeRawBufferPointer(start: nil, count: 0)) == false)
        Array(#"{"n":1.0,"s":"e\u0301"}"#.utf8).withUnsafeBytes { raw in
            #expect(MetadataFilter().equals("n", .number(1)).matches(raw))
            #expect(MetadataFilter().equals("s", .string("e\u{301}")).matches(raw))
            #expect(!MetadataFilter().equals("s", .string("\u{E9}")).matches(raw))
        }
        let deep = String(repeating: "{\"a\":", count: 100) + "1" + String(repeating: "}", count: 100)
        #expect(throws: StoreError.self) { try Array(deep.utf8).withUnsafeBytes { try MetadataJSON.validateObject($0, key: "k") } }
    }
}


/// Narrow filters: the walk would have to visit most of the graph to find ef matches, so the
/// search scans exactly, and its answer is the brute-force one.
@Suite struct NarrowFilterTests {
    @Test func narrowFiltersScanExactlyAndEqualBruteForce() throws {
        let dir = TempDirectory("narrow")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 23)
        let n = 6000
        let (items, queries) = gen.clustered(n: n, queries: 20, dim: 12)
        let (catalog, c) = try makeCollection(dir, dim: 12, metric: .l2)
        // r: 0…999, each value on 6 records; s: a string per record; deleted records must not count.
        try upsertAll(c, items) { #"{"r": \#($0 % 1000), "s": "k\#(String($0).count)-\#($0 % 7)"}"# }
        _ = try c.delete((0..<n).filter { $0 % 1000 == 3 }.map(String.init))
        try c.waitForIndexing()
        let cases: [(String, (Int) -> Bool, Bool)] = [
            (#"{"r": 7}"#, { $0 % 1000 == 7 }, true),
            (#"{"r": {"$lt": 5}}"#, { $0 % 1000 < 5 && $0 % 1000 != 3 }, true),
            (#"{"$or": [{"r": 3}, {"r": {"$gte": 990}}], "s": {"$ne": "k4-0"}}"#,
             { $0 % 1000 >= 990 && "k\(String($0).count)-\($0 % 7)" != "k4-0" }, true),
            (#"{"r": {"$lt": 500}}"#, { $0 % 1000 < 500 && $0 % 1000 != 3 }, false),
        ]
        for (text, truth, narrow) in cases {
            let filter = try #require(try MetadataFilter(json: text))
            let matching = (0..<n).filter(truth).count
            let estimate = c.searcher.estimatedMatches(filter, liveCount: c.count)
            #expect(Searcher.prefersExactScan(estimatedMatches: estimate, ef: 64) == narrow, "\(text): estimated \(estimate) of \(matching)")
            for q in queries {
                let hits = try c.search(q, k: 10, ef: 64, filter: filter).map(\.key)
                let exact = BruteForce.topK(q, items, k: 10, metric: .l2, include: truth).map(String.init)
                if narrow {
                    #expect(hits == exact, "\(text)")
                } else {
                    #expect(Set(hits).intersection(exact).count >= 8, "\(text)")
                }
            }
        }
        try catalog.closeAll()
    }

    /// The three walks a filter can take (the C walk on codes, with and without deletions, and
    /// HNSW.searchLayer on exact distances) keep only matches and find the true neighbours.
    @Test func everyWalkFilters() throws {
        for quantized in [true, false] {
            let dir = TempDirectory("walks")
            defer { dir.cleanup() }
            var gen = DataGen(seed: 31)
            let n = 3000
            let (items, queries) = gen.clustered(n: n, queries: 15, dim: 16)
            let (catalog, c) = try makeCollection(dir, dim: 16, metric: .cosine, options: OpenOptions(quantizedSearch: quantized))
            try upsertAll(c, items) { #"{"g": \#($0 % 4), "t": ["a", "\#($0 % 2 == 0 ? "even" : "odd")"]}"# }
            try c.waitForIndexing()
            for deleting in [false, true] {
                if deleting { _ = try c.delete((0..<n).filter { $0 % 12 == 1 }.map(String.init)) }
                let truth: (Int) -> Bool = { $0 % 4 == 1 && !(deleting && $0 % 12 == 1) }
                let filter = try #require(try MetadataFilter(json: #"{"g": {"$gte": 1, "$lt": 2}, "t": {"$contains": "odd"}}"#))
                var total = 0.0
                for q in queries {
                    let hits = try c.search(q, k: 10, ef: 64, filter: filter).map(\.key)
                    #expect(hits.allSatisfy { truth(Int($0)!) }, "quantized \(quantized), deleting \(deleting)")
                    let exact = BruteForce.topK(q, items, k: 10, metric: .cosine, include: truth).map(String.init)
                    total += Double(Set(hits).intersection(exact).count) / 10
                }
                #expect(total / Double(queries.count) >= 0.95, "quantized \(quantized), deleting \(deleting)")
            }
            try catalog.closeAll()
        }
    }

    @Test func theEstimateSamplesLargeCollections() throws {
        let dir = TempDirectory("estimate")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 3)
        let items = gen.random(n: 20_000, dim: 4)
        let (catalog, c) = try makeCollection(dir, dim: 4, metric: .l2)
        try upsertAll(c, items, batch: 2000) { #"{"p": \#($0 % 100)}"# }
        for (text, share) in [(#"{"p": {"$lt": 50}}"#, 0.5), (#"{"p": {"$lt": 10}}"#, 0.1), (#"{"p": 1}"#, 0.01), (#"{"p": -1}"#, 0.0)] {
            let estimate = c.searcher.estimatedMatches(try #require(try MetadataFilter(json: text)), liveCount: c.count)
            let want = share * 20_000
            #expect(Double(estimate) >= want * 0.5 && Double(estimate) <= want * 1.5 + 1, "\(text): \(estimate) for \(want)")
        }
        try catalog.closeAll()
    }
}
