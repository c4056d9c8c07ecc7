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
            (MetadataFilter().equals("tags", .number(1)), { _ in false }),
            (MetadataFilter().equals("missing", .null), { _ in false }),
        ]
        for (filter, truth) in cases {
            let matching = (0..<n).filter(truth).count
            var total = 0.0
            for q in queries {
                let hits = try c.search(q, k: 10, filter: filter)
                #expect(hits.count == min(10, matching), "\(filter.conditions)")
                for h in hits { #expect(truth(Int(h.key)!), "\(h.key) does not match \(filter.conditions)") }
                let exact = Set(BruteForce.topK(q, items, k: 10, metric: .l2, include: truth).map(String.init))
                total += exact.isEmpty ? (hits.isEmpty ? 1 : 0) : Double(exact.intersection(hits.map(\.key)).count) / Double(exact.count)
            }
            let r = total / Double(queries.count)
            #expect(r >= 0.95, "filtered recall \(r) for \(filter.conditions)")
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

/// The lazy scan on the search path decides exactly as a full parse would.
@Suite struct FilterScanEquivalenceTests {
    /// Reference semantics on EmbedJSON's tree: each condition holds when some top-level member
    /// of that name (by UTF-8 bytes) is a scalar equal to one of its values.
    static func reference(_ filter: MetadataFilter, _ metadata: String) -> Bool {
        guard let members = try? JSONValue.parse(metadata, options: MetadataJSON.options).members else { return false }
        return filter.conditions.allSatisfy { c in
            members.contains { name, value in
                guard name.utf8.elementsEqual(c.field.utf8) else { return false }
                let scalar: MetadataValue
                switch value {
                case .string(let s): scalar = .string(s)
                case .number(let n): scalar = .number(n.double!)
                case .bool(let b): scalar = .bool(b)
                case .null: scalar = .null
                case .array, .object: return false
                }
                return c.anyOf.contains { MetadataJSON.equal($0, scalar) }
            }
        }
    }

    @Test func lazyScanAgreesWithTheTree() {
        let metadata = [
            #"{"cat":"x","n":1}"#, #"{"c\u0061t":"x"}"#, #"{"cat":"\u0078"}"#, #"{"cat":["x"],"n":1.0}"#,
            #"{"cat":{"cat":"x"},"cat":"x"}"#, #"{"cat":"y","cat":"x"}"#, #"{"n":1e0,"m":-0}"#, #"{"m":0,"n":10e-1}"#,
            #"{"n":"1"}"#, #"{"b":true,"z":null}"#, #"{"b":false}"#, #"{}"#, #"{"e\u0301":"\u00e9"}"#,
            #"{"big":9007199254740993}"#, #"{"big":9007199254740992}"#, #"{"x":[1,{"y":[2]}],"cat":"x"}"#,
            #" { "cat" : "x" , "n" : 1 } "#, #"{"cat":"x\"y"}"#, #"{"😀":"\ud83d\ude00"}"#,
        ]
        let filters: [MetadataFilter] = [
            MetadataFilter().equals("cat", .string("x")),
            MetadataFilter().equals("cat", .string("x")).equals("n", .number(1)),
            MetadataFilter().in("n", [.number(2), .number(1)]),
            MetadataFilter().equals("m", .number(0)),
            MetadataFilter().equals("n", .string("1")),
            MetadataFilter().equals("b", .bool(true)).equals("z", .null),
            MetadataFilter().equals("b", .bool(false)),
            MetadataFilter().equals("e\u{301}", .string("\u{E9}")),
            MetadataFilter().equals("big", .number(9007199254740992)),
            MetadataFilter().equals("cat", .string("x\"y")),
            MetadataFilter().equals("😀", .string("😀")),
            MetadataFilter().equals("x", .number(1)),
        ]
        for m in metadata {
            for f in filters {
                let lazy = Array(m.utf8).withUnsafeBytes { f.matches($0) }
                #expect(lazy == Self.reference(f, m), "\(m) with \(f.conditions)")
            }
        }
    }
}

@Suite struct FilterJSONTests {
    @Test func spellings() throws {
        #expect(try MetadataFilter(json: "") == nil)
        #expect(try MetadataFilter(json: " \n ") == nil)
        #expect(try MetadataFilter(json: "{}") == MetadataFilter())
        #expect(try MetadataFilter(json: #"{"lang": "en"}"#) == MetadataFilter().equals("lang", .string("en")))
        #expect(try MetadataFilter(json: #"{"y": [2023, 2024.0], "ok": true}"#)
                == MetadataFilter().in("y", [.number(2023), .number(2024)]).equals("ok", .bool(true)))
        #expect(try MetadataFilter(json: #"{"y": {"$in": [1, null]}, "s": {"$eq": "a\"b"}}"#)
                == MetadataFilter().in("y", [.number(1), .null]).equals("s", .string("a\"b")))
    }

    @Test func errorsNameTheProblem() {
        func message(_ text: String) -> String {
            do { _ = try MetadataFilter(json: text); return "no error" } catch { return "\(error)" }
        }
        #expect(message("[1]").contains("must be a JSON object"))
        #expect(message("{").contains("not valid JSON"))
        #expect(message(#"{"a": 1} x"#).contains("unexpected text after the filter object at byte 9"))
        #expect(message(#"{"": 1}"#).contains("empty field name"))
        #expect(message(#"{"a": []}"#).contains("the list of values is empty"))
        #expect(message(#"{"a": [{"b": 1}]}"#).contains("values must be strings, numbers, booleans or null"))
        #expect(message(#"{"a": {"$gt": 1}}"#).contains("unknown operator '$gt'"))
        #expect(message(#"{"a": {"$eq": 1, "$in": [2]}}"#).contains("exactly one"))
        #expect(message(#"{"a": {"$in": 3}}"#).contains("\"$in\" takes an array"))
        #expect(message(#"{"a": {"$eq": [3]}}"#).contains("\"$eq\" takes a string"))
    }

    @Test func metadataProblems() {
        #expect(Record.metadataProblem(#"{"a": [1, {"b": null}]}"#) == nil)
        #expect(Record.metadataProblem("[1]")?.contains("must be a JSON object") == true)
        #expect(Record.metadataProblem(#"{"a": }"#)?.contains("not valid JSON") == true)
    }
}
