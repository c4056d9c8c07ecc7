import EmbedClient
import EmbedWire
import Foundation
import Testing

/// embedctl's store commands against the real daemon with the C fixture plugin (fast,
/// deterministic trigram vectors): every input form of `add`, the JSON contracts, exit codes,
/// failures per key, `--skip-existing` and access control.
@Suite(.serialized) struct EmbedctlStoreTests {
    /// A daemon serving fixture model `fx` (dim 16, text + fixture media).
    static func daemon() throws -> RestartableDaemon {
        try RestartableDaemon(models: TestDaemon.fixtureModel(isDefault: true))
    }

    static func ok(_ r: RunResult, _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 0, "\(what) exit \(r.status): \(r.stderr) \(r.stdout.prefix(500))", sourceLocation: sourceLocation)
    }

    /// The top hits' keys of each query in a `search --format json` output.
    static func keys(_ r: RunResult) throws -> [[String]] {
        let obj = try #require(try jsonOutput(r) as? [String: Any])
        #expect(obj.keys.sorted() == ["results"])
        let results = try #require(obj["results"] as? [[[String: Any]]])
        for list in results { for hit in list { #expect(Set(hit.keys) == ["key", "score", "metadata", "document"]) } }
        return results.map { $0.map { $0["key"] as! String } }
    }

    @Test func collectionLifecycle() throws {
        let d = try Self.daemon()
        let c = try d.ctl(["collection", "create", "docs", "--model", "fx", "--format", "json"])
        Self.ok(c)
        let info = try #require(try jsonOutput(c) as? [String: Any])
        #expect(info["name"] as? String == "docs" && info["model"] as? String == "fx")
        #expect(info["dim"] as? Int == 16 && info["metric"] as? String == "cosine")
        #expect((info["embedding_space"] as? String)?.isEmpty == false)
        #expect(info["can_read"] as? Bool == true && info["can_write"] as? Bool == true)

        let raw = try d.ctl(["collection", "create", "vecs", "--dim", "4", "--metric", "l2", "--hnsw-m", "8", "--ef", "50"])
        Self.ok(raw)
        #expect(raw.stdout.contains("vecs") && raw.stdout.contains("raw vectors") && raw.stdout.contains("l2"))

        // Creating it again fails (exit 1, names the collection) unless --exist-ok.
        let again = try d.ctl(["collection", "create", "docs", "--model", "fx"])
        #expect(again.status == 1 && again.stderr.contains("docs"), "\(again.stderr)")
        Self.ok(try d.ctl(["collection", "create", "docs", "--model", "fx", "--exist-ok"]))

        let list = try d.ctl(["collection", "list", "--format", "json"])
        Self.ok(list)
        let all = try #require(try jsonOutput(list) as? [[String: Any]])
        #expect(Set(all.map { $0["name"] as! String }) == ["docs", "vecs"])
        let vecs = try #require(all.first { $0["name"] as? String == "vecs" })
        #expect(vecs["model"] is NSNull && vecs["dim"] as? Int == 4 && vecs["metric"] as? String == "l2")
        #expect((vecs["hnsw"] as? [String: Any])?["m"] as? Int == 8 && (vecs["hnsw"] as? [String: Any])?["ef"] as? Int == 50)
        let table = try d.ctl(["collection", "list"])
        #expect(table.stdout.contains("NAME") && table.stdout.contains("(raw vectors)") && table.stdout.contains("rw"))

        let describe = try d.ctl(["collection", "describe", "docs"])
        Self.ok(describe)
        #expect(describe.stdout.contains("dimension:") && describe.stdout.contains("16") && describe.stdout.contains("model:"))
        let dj = try #require(try jsonOutput(try d.ctl(["collection", "describe", "docs", "--format", "json"])) as? [String: Any])
        #expect(dj["stats"] is [String: Any])
        // The table shows the creation time as a UTC date.
        let created = Date(timeIntervalSince1970: Double(dj["created_unix_ms"] as? Int ?? 0) / 1000)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        #expect(describe.stdout.contains("created:     " + formatter.string(from: created)), "\(describe.stdout)")

        // optimize: deleted slots are reclaimed, every remaining record and answer is kept.
        Self.ok(try d.ctl(["add", "vecs", "--key", "a", "--vector-json", "[1,0,0,0]"]))
        Self.ok(try d.ctl(["add", "vecs", "--key", "b", "--vector-json", "[0,1,0,0]"]))
        Self.ok(try d.ctl(["add", "vecs", "--key", "c", "--vector-json", "[0,0,1,0]"]))
        Self.ok(try d.ctl(["delete", "vecs", "b"]))
        Self.ok(try d.ctl(["add", "vecs", "--key", "a", "--vector-json", "[0,0,0,1]"]))  // replaces a
        let opt = try d.ctl(["collection", "optimize", "vecs", "--format", "json"])
        Self.ok(opt)
        let oj = try #require(try jsonOutput(opt) as? [String: Any])
        #expect(oj["optimized"] as? String == "vecs" && oj["deleted_reclaimed"] as? Int == 2, "\(opt.stdout)")
        let ostats = try #require((oj["collection"] as? [String: Any])?["stats"] as? [String: Any])
        #expect(ostats["deleted"] as? Int == 0 && ostats["nodes"] as? Int == 2 && ostats["count"] as? Int == 2, "\(opt.stdout)")
        #expect(try Self.keys(try d.ctl(["search", "vecs", "--vector-json", "[0,0,0.9,0.1]", "-k", "2", "--format", "json"])) == [["c", "a"]])
        let optText = try d.ctl(["collection", "optimize", "vecs"])
        Self.ok(optText)
        #expect(optText.stdout.hasPrefix("optimized collection vecs in ") && optText.stdout.contains("2 records, 0 deleted slots reclaimed"),
                "\(optText.stdout)")
        let optMissing = try d.ctl(["collection", "optimize", "nope"])
        #expect(optMissing.status == 1 && optMissing.stderr.contains("NOT_FOUND"), "\(optMissing.stderr)")

        Self.ok(try d.ctl(["collection", "drop", "vecs"]))
        let gone = try d.ctl(["collection", "describe", "vecs"])
        #expect(gone.status == 1 && gone.stderr.contains("NOT_FOUND"), "\(gone.stderr)")
        let after = try #require(try jsonOutput(try d.ctl(["collection", "list", "--format", "json"])) as? [[String: Any]])
        #expect(after.map { $0["name"] as! String } == ["docs"])

        // A model that does not exist: the daemon says so.
        let noModel = try d.ctl(["collection", "create", "x", "--model", "nope"])
        #expect(noModel.status == 1 && noModel.stderr.contains("nope"), "\(noModel.stderr)")
        // Usage mistakes: exit 2 before anything is sent.
        for args in [["collection", "create", "x"], ["collection", "create", "x", "--model", "fx", "--dim", "3"],
                     ["collection", "create", "x", "--dim", "0"], ["collection", "create", "x", "--dim", "3", "--metric", "hamming"],
                     ["collection", "create"], ["collection", "create", "x", "--dim", "3", "--writer", "no-such-user-xyz"],
                     ["collection", "drop"], ["collection", "optimize"], ["collection", "frob"]] {
            let r = try d.ctl(args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.hasPrefix("embedctl: "), "\(args)")
        }
        d.stop()
    }

    @Test func addEveryInputFormAndSearchContract() throws {
        let d = try Self.daemon()
        Self.ok(try d.ctl(["collection", "create", "docs", "--model", "fx"]))
        let dir = d.directory
        try FileManager.default.createDirectory(atPath: dir + "/notes", withIntermediateDirectories: true)
        try "the quick brown fox".write(toFile: dir + "/notes/fox.txt", atomically: true, encoding: .utf8)
        try "a lazy dog sleeps".write(toFile: dir + "/notes/dog.txt", atomically: true, encoding: .utf8)
        try "not matched by the glob".write(toFile: dir + "/notes/other.md", atomically: true, encoding: .utf8)
        try """
        {"key": "j1", "text": "jumping jacks in june", "metadata": {"lang": "en", "year": 2023}}

        {"text": "keyless line of text", "metadata": {"lang": "de",   "year": 2024}}
        {"key": "j3", "path": "\(dir)/notes/other.md"}
        """.write(toFile: dir + "/items.jsonl", atomically: true, encoding: .utf8)

        // Texts as arguments (their own keys), a quoted glob (keys = paths), JSONL, one metadata for all.
        let add = try d.ctl(["add", "docs", "alpha text", "beta text", "--file", dir + "/notes/*.txt", "--jsonl", dir + "/items.jsonl",
                             "--metadata", #"{"src": "cli"}"#, "--format", "json"])
        Self.ok(add, "add")
        let report = try #require(try jsonOutput(add) as? [String: Any])
        let stored = report["stored_keys"] as? [String] ?? []
        #expect(stored == ["alpha text", "beta text", dir + "/notes/dog.txt", dir + "/notes/fox.txt", "j1", "keyless line of text", "j3"])
        #expect(report["stored"] as? Int == 7 && report["failed"] as? Int == 0 && report["skipped"] as? Int == 0)
        #expect((report["failures"] as? [Any])?.isEmpty == true)

        // One item with --key and exact metadata bytes.
        let meta = #"{"lang":"fr",  "tags": ["x", "y"], "n": 1.50}"#
        Self.ok(try d.ctl(["add", "docs", "--key", "single", "gamma text", "--metadata", meta]))
        let got = try d.ctl(["get", "docs", "single", "--format", "json"])
        Self.ok(got)
        let record = try #require(try jsonOutput(got) as? [String: Any])
        #expect(record["key"] as? String == "single" && record["dim"] as? Int == 16)
        // Metadata comes back byte for byte (embedded as JSON in the output).
        #expect(got.stdout.contains(meta), "\(got.stdout)")
        #expect(((record["vector"] as? [NSNumber]) ?? []).count == 16)
        // JSONL metadata is sent as written, and --metadata only fills in for items without their own.
        let keyless = try d.ctl(["get", "docs", "keyless line of text", "--format", "json"])
        #expect(keyless.stdout.contains(#"{"lang": "de",   "year": 2024}"#), "\(keyless.stdout)")
        let alpha = try #require(try jsonOutput(try d.ctl(["get", "docs", "alpha text", "--format", "json"])) as? [String: Any])
        #expect((alpha["metadata"] as? [String: Any])?["src"] as? String == "cli")
        let j3 = try #require(try jsonOutput(try d.ctl(["get", "docs", "j3", "--format", "json"])) as? [String: Any])
        #expect((j3["metadata"] as? [String: Any])?["src"] as? String == "cli")

        // A file's vector is the vector of its text (the daemon read it through the passed descriptor);
        // --send-bytes gives the same.
        Self.ok(try d.ctl(["add", "docs", "--key", "fox-bytes", "--file", dir + "/notes/fox.txt", "--send-bytes"]))
        Self.ok(try d.ctl(["add", "docs", "--key", "fox-text", "the quick brown fox"]))
        func vector(_ key: String) throws -> [Float] {
            let r = try d.ctl(["get", "docs", key, "--format", "json"])
            Self.ok(r, "get \(key)")
            return ((try jsonOutput(r) as? [String: Any])?["vector"] as? [NSNumber] ?? []).map(\.floatValue)
        }
        let fox = try vector(dir + "/notes/fox.txt")
        let foxText = try vector("fox-text"), foxBytes = try vector("fox-bytes")
        #expect(fox.count == 16 && fox == foxText && fox == foxBytes)

        // Media files go as descriptors too (the fixture plugin's own format), and JSONL can come from stdin.
        var media = Data("FXTR".utf8)
        var n = UInt32(5).littleEndian
        media.append(Data(bytes: &n, count: 4))
        media.append(Data("hello".utf8))
        try media.write(to: URL(fileURLWithPath: dir + "/x.fxtr"))
        Self.ok(try d.ctl(["add", "docs", "--key", "media", "--file", dir + "/x.fxtr"]))
        let byMedia = try d.ctl(["search", "docs", "--file", dir + "/x.fxtr", "-k", "1", "--format", "json"])
        Self.ok(byMedia)
        #expect(try Self.keys(byMedia) == [["media"]])
        let fromStdin = try d.ctl(["add", "docs", "--jsonl", "-", "--format", "json"], stdin: Data(#"{"key": "stdin", "text": "from standard input"}"#.utf8))
        Self.ok(fromStdin)
        #expect((try jsonOutput(fromStdin) as? [String: Any])?["stored_keys"] as? [String] == ["stdin"])
        Self.ok(try d.ctl(["delete", "docs", "media", "stdin"]))

        // search: one list per query, in query order; a stored text finds itself first.
        let s = try d.ctl(["search", "docs", "beta text", "alpha text", "--file", dir + "/notes/dog.txt", "-k", "3", "--format", "json"])
        Self.ok(s, "search")
        let lists = try Self.keys(s)
        #expect(lists.count == 3)
        #expect(lists.map { $0.first ?? "" } == ["beta text", "alpha text", dir + "/notes/dog.txt"])
        #expect(lists.allSatisfy { $0.count == 3 })
        let first = try #require(((try jsonOutput(s) as? [String: Any])?["results"] as? [[[String: Any]]])?.first?.first)
        #expect(abs(((first["score"] as? NSNumber)?.floatValue ?? 0) - 1) < 1e-5)
        #expect((first["metadata"] as? [String: Any])?["src"] as? String == "cli")

        // Filters: equality, "in", a list; the daemon's own spelling works too.
        func filtered(_ f: String) throws -> Set<String> {
            let r = try d.ctl(["search", "docs", "text", "-k", "50", "--filter", f, "--format", "json"])
            Self.ok(r, "filter \(f)")
            return Set(try Self.keys(r).first ?? [])
        }
        #expect(try filtered(#"{"lang": "en"}"#) == ["j1"])
        #expect(try filtered(#"{"lang": {"in": ["de", "fr"]}}"#) == ["keyless line of text", "single"])
        #expect(try filtered(#"{"lang": ["de", "en"], "year": {"in": [2024]}}"#) == ["keyless line of text"])
        #expect(try filtered(#"{"year": {"$in": [2023, 2024]}}"#) == ["j1", "keyless line of text"])
        #expect(try filtered(#"{"src": "cli", "lang": {"eq": "fr"}}"#).isEmpty)
        #expect(try filtered("{}").count == 10)
        // The new operators, and the daemon's message for a mistake, passed through unchanged.
        #expect(try filtered(#"{"year": {"$gte": 2024}, "lang": {"$ne": "en"}}"#) == ["keyless line of text"])
        #expect(try filtered(#"{"$or": [{"lang": "en"}, {"year": {"$lt": 2024}}]}"#) == ["j1"])
        #expect(try filtered(#"{"tags": {"$contains": "y"}, "n": {"$gt": 1}}"#) == ["single"])
        let badFilter = try d.ctl(["search", "docs", "x", "--filter", #"{"lang": {"$like": "e%"}}"#])
        #expect(badFilter.status == 1 && badFilter.stderr == "embedctl: INVALID_ARGUMENT: filter on 'lang': unknown operator '$like' "
                + "(supported: $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $contains, $not) at byte 10\n", "\(badFilter.stderr)")

        // Table output names the ranks and scores.
        let t = try d.ctl(["search", "docs", "alpha text", "-k", "2"])
        Self.ok(t)
        #expect(t.stdout.contains("SCORE") && t.stdout.contains("alpha text") && t.stdout.contains("1.0000"))

        // get: exit 1 when absent; delete reports how many existed; stats and count agree.
        let missing = try d.ctl(["get", "docs", "no such key"])
        #expect(missing.status == 1 && missing.stderr.contains("no such key"), "\(missing.stderr)")
        let del = try d.ctl(["delete", "docs", "alpha text", "never stored", "--format", "json"])
        Self.ok(del)
        #expect((try jsonOutput(del) as? [String: Any])?["deleted"] as? Int == 1)
        #expect(try d.ctl(["get", "docs", "alpha text"]).status == 1)
        let stats = try d.ctl(["stats", "--format", "json"])
        Self.ok(stats)
        let sj = try #require(try jsonOutput(stats) as? [[String: Any]])
        #expect(sj.count == 1 && (sj[0]["stats"] as? [String: Any])?["count"] as? Int == 9)
        let st = try d.ctl(["stats", "docs"])
        #expect(st.status == 0 && st.stdout.contains("UNINDEXED") && st.stdout.contains("docs"))
        #expect(try d.client().count("docs") == 9)
        d.stop()
    }

    /// Writes a float32 C-order .npy file.
    static func writeNPY(_ path: String, _ rows: [[Float]]) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows.count), \(rows[0].count)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(Data(header.utf8))
        for r in rows { for v in r { var b = v.bitPattern.littleEndian; data.append(Data(bytes: &b, count: 4)) } }
        try data.write(to: URL(fileURLWithPath: path))
    }

    @Test func rawVectorsNpyAndPerKeyFailures() throws {
        let d = try Self.daemon()
        Self.ok(try d.ctl(["collection", "create", "vecs", "--dim", "4", "--metric", "l2"]))
        let rows: [[Float]] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]
        try Self.writeNPY(d.directory + "/v.npy", rows)
        let add = try d.ctl(["add", "vecs", "--npy", d.directory + "/v.npy", "--key-prefix", "r", "--format", "json"])
        Self.ok(add, "add --npy")
        #expect((try jsonOutput(add) as? [String: Any])?["stored_keys"] as? [String] == ["r0", "r1", "r2"])
        Self.ok(try d.ctl(["add", "vecs", "--key", "v", "--vector-json", "[0.5, 0.5, 0, 0]", "--metadata", #"{"k": 1}"#]))

        // One query per --npy row, in order; --vector-json queries too.
        let s = try d.ctl(["search", "vecs", "--npy", d.directory + "/v.npy", "--vector-json", "[0, 0, 0.9, 0]", "-k", "1", "--format", "json"])
        Self.ok(s)
        #expect(try Self.keys(s) == [["r0"], ["r1"], ["r2"], ["r2"]])
        let hit = try #require(((try jsonOutput(s) as? [String: Any])?["results"] as? [[[String: Any]]])?[3].first)
        let l2 = (hit["score"] as? NSNumber)?.floatValue ?? -1
        #expect(abs(l2 - 0.1) < 1e-4 || abs(l2 - 0.01) < 1e-4, "L2 distance (or its square) of [0,0,0.9,0] to r2: \(l2)")

        // Many queries are sent in several calls and still answered in order.
        var generator = SystemRandomNumberGenerator()
        let many: [[Float]] = (0..<150).map { _ in (0..<4).map { _ in Float.random(in: -1...1, using: &generator) } }
        try Self.writeNPY(d.directory + "/many.npy", many)
        Self.ok(try d.ctl(["collection", "create", "many", "--dim", "4", "--metric", "l2"]))
        Self.ok(try d.ctl(["add", "many", "--npy", d.directory + "/many.npy", "--batch-size", "32"]))
        let manyHits = try d.ctl(["search", "many", "--npy", d.directory + "/many.npy", "-k", "1", "--format", "json"])
        Self.ok(manyHits)
        #expect(try Self.keys(manyHits) == (0..<150).map { ["\($0)"] })

        // A bad item fails alone, named with its reason; the others are stored; exit 1.
        try """
        {"key": "good1", "vector": [1, 1, 0, 0]}
        {"key": "short", "vector": [1, 2]}
        {"key": "good2", "vector": [0, 1, 1, 0]}
        """.write(toFile: d.directory + "/mixed.jsonl", atomically: true, encoding: .utf8)
        let mixed = try d.ctl(["add", "vecs", "--jsonl", d.directory + "/mixed.jsonl", "--format", "json"])
        #expect(mixed.status == 1, "\(mixed.stderr)")
        let m = try #require(try jsonOutput(mixed) as? [String: Any])
        #expect(m["stored_keys"] as? [String] == ["good1", "good2"])
        let failures = try #require(m["failures"] as? [[String: Any]])
        #expect(failures.count == 1 && failures.first?["key"] as? String == "short")
        let reason = (failures.first?["error"] as? String) ?? ""
        #expect(reason.contains("4"), "the reason names the dimension: \(failures)")
        #expect(mixed.stderr.contains("1 of 3 items not stored"))
        // The table output lists the failure too.
        let mixedTable = try d.ctl(["add", "vecs", "--jsonl", d.directory + "/mixed.jsonl"])
        #expect(mixedTable.status == 1 && mixedTable.stdout.contains("failed:") && mixedTable.stdout.contains("short"))

        // The daemon fails one item alone too (a zero vector has no direction under cosine).
        Self.ok(try d.ctl(["collection", "create", "cos", "--dim", "2"]))
        try "{\"key\": \"zero\", \"vector\": [0, 0]}\n{\"key\": \"unit\", \"vector\": [0, 1]}\n"
            .write(toFile: d.directory + "/zero.jsonl", atomically: true, encoding: .utf8)
        let zero = try d.ctl(["add", "cos", "--jsonl", d.directory + "/zero.jsonl", "--format", "json"])
        #expect(zero.status == 1)
        let z = try #require(try jsonOutput(zero) as? [String: Any])
        #expect(z["stored_keys"] as? [String] == ["unit"])
        #expect((z["failures"] as? [[String: Any]])?.first?["key"] as? String == "zero")

        // Text into a raw collection: refused, naming why.
        let text = try d.ctl(["add", "vecs", "some text"])
        #expect(text.status == 1 && text.stdout.contains("some text"), "\(text.stdout) \(text.stderr)")
        // Bad .npy: exit 1 naming the file and the problem.
        try Data("not numpy".utf8).write(to: URL(fileURLWithPath: d.directory + "/bad.npy"))
        let bad = try d.ctl(["add", "vecs", "--npy", d.directory + "/bad.npy"])
        #expect(bad.status == 1 && bad.stderr.contains("bad.npy") && bad.stderr.contains("not a .npy file"))
        // Bad JSONL: usage error naming file:line.
        try "{\"key\": \"a\", \"text\": \"x\"}\n{\"key\": 3, \"text\": \"y\"}\n".write(toFile: d.directory + "/bad.jsonl", atomically: true, encoding: .utf8)
        let badLine = try d.ctl(["add", "vecs", "--jsonl", d.directory + "/bad.jsonl"])
        #expect(badLine.status == 2 && badLine.stderr.contains("bad.jsonl:2") && badLine.stderr.contains("\"key\" must be a string"))
        // Unknown collection: exit 1, every key reported failed with the reason.
        let nowhere = try d.ctl(["add", "nowhere", "x", "y", "--format", "json"])
        #expect(nowhere.status == 1)
        let nf = try #require(try jsonOutput(nowhere) as? [String: Any])
        #expect(nf["stored"] as? Int == 0 && nf["failed"] as? Int == 2)
        let nfReason = ((nf["failures"] as? [[String: Any]])?.first?["error"] as? String) ?? ""
        #expect(nfReason.contains("NOT_FOUND"), "\(nfReason)")
        d.stop()
    }

    @Test func skipExistingResumes() throws {
        let d = try Self.daemon()
        Self.ok(try d.ctl(["collection", "create", "docs", "--model", "fx"]))
        Self.ok(try d.ctl(["add", "docs", "one", "two", "three", "--metadata", #"{"v": 1}"#]))
        let again = try d.ctl(["add", "docs", "one", "two", "three", "four", "five", "--skip-existing", "--metadata", #"{"v": 2}"#,
                               "--batch-size", "2", "--format", "json"])
        Self.ok(again)
        let r = try #require(try jsonOutput(again) as? [String: Any])
        #expect(r["stored_keys"] as? [String] == ["four", "five"])
        #expect(r["skipped_keys"] as? [String] == ["one", "two", "three"])
        // Skipped records were left alone; without --skip-existing they are replaced.
        #expect(try d.ctl(["get", "docs", "one"]).stdout.contains(#"{"v": 1}"#))
        Self.ok(try d.ctl(["add", "docs", "one", "--metadata", #"{"v": 3}"#]))
        #expect(try d.ctl(["get", "docs", "one"]).stdout.contains(#"{"v": 3}"#))
        let table = try d.ctl(["add", "docs", "one", "six", "--skip-existing"])
        #expect(table.status == 0 && table.stdout.contains("stored 1, skipped 1 existing, failed 0 of 2 items"), "\(table.stdout)")
        // Long texts are keyed by their SHA-256; a key repeated on the command line is stored once.
        let long = String(repeating: "long words here ", count: 80)
        let l = try d.ctl(["add", "docs", long, "six", "--format", "json"])
        Self.ok(l)
        let lk = try #require((try jsonOutput(l) as? [String: Any])?["stored_keys"] as? [String])
        #expect(lk.count == 2 && lk[0].hasPrefix("sha256:") && lk[0].count == 7 + 64)
        let twice = try d.ctl(["add", "docs", "dup", "dup"])
        #expect(twice.status == 0 && twice.stderr.contains("warning: key dup") && twice.stdout.contains("stored 1,"))
        d.stop()
    }

    @Test func writersAndReaders() throws {
        let d = try Self.daemon()
        // Default: anyone who can connect reads; only the owner (root here) writes.
        Self.ok(try d.ctl(["collection", "create", "docs", "--model", "fx"]))
        Self.ok(try d.ctl(["add", "docs", "hello world"]))
        let denied = try d.ctl(["add", "docs", "from nobody", "--format", "json"], asNobody: true)
        #expect(denied.status == 1)
        let failures = (try jsonOutput(denied) as? [String: Any])?["failures"] as? [[String: Any]] ?? []
        #expect(failures.count == 1 && (failures.first?["error"] as? String ?? "").contains("PERMISSION_DENIED"), "\(denied.stdout)")
        let search = try d.ctl(["search", "docs", "hello world", "--format", "json"], asNobody: true)
        Self.ok(search, "nobody searches")
        #expect(try Self.keys(search).first?.first == "hello world")
        let del = try d.ctl(["delete", "docs", "hello world"], asNobody: true)
        #expect(del.status == 1 && del.stderr.contains("PERMISSION_DENIED"))
        let drop = try d.ctl(["collection", "drop", "docs"], asNobody: true)
        #expect(drop.status == 1 && drop.stderr.contains("PERMISSION_DENIED"))
        let optimize = try d.ctl(["collection", "optimize", "docs"], asNobody: true)
        #expect(optimize.status == 1 && optimize.stderr.contains("PERMISSION_DENIED"), "\(optimize.stderr)")
        let list = try #require(try jsonOutput(try d.ctl(["collection", "list", "--format", "json"], asNobody: true)) as? [[String: Any]])
        #expect(list.first?["can_read"] as? Bool == true && list.first?["can_write"] as? Bool == false)

        // --writer grants writing; --restrict-read takes reading away from everyone else.
        Self.ok(try d.ctl(["collection", "create", "shared", "--model", "fx", "--writer", "nobody"]))
        Self.ok(try d.ctl(["add", "shared", "written by nobody"], asNobody: true), "nobody writes to shared")
        Self.ok(try d.ctl(["collection", "create", "private", "--model", "fx", "--restrict-read"]))
        Self.ok(try d.ctl(["add", "private", "secret"]))
        let hidden = try d.ctl(["search", "private", "secret"], asNobody: true)
        #expect(hidden.status == 1 && hidden.stderr.contains("PERMISSION_DENIED"), "\(hidden.stderr)")
        d.stop()
    }

    /// Files that cannot be sent (empty, not UTF-8) fail alone, counted once; the items sent
    /// with them are reported by their own results. A failed write of the output is exit 1.
    @Test func unsendableFilesFailAloneAndOutputErrorsAreExitOne() throws {
        let d = try Self.daemon()
        Self.ok(try d.ctl(["collection", "create", "docs", "--model", "fx"]))
        let dir = d.directory + "/mixed"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "alpha text".write(toFile: dir + "/a.txt", atomically: true, encoding: .utf8)
        try Data().write(to: URL(fileURLWithPath: dir + "/b.txt"))
        try "gamma text".write(toFile: dir + "/c.txt", atomically: true, encoding: .utf8)
        try Data([0x66, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: dir + "/d.txt"))
        let r = try d.ctl(["add", "docs", "--send-bytes", "--file", dir + "/*.txt", "--format", "json"])
        #expect(r.status == 1)
        let j = try #require(try jsonOutput(r) as? [String: Any])
        #expect(j["stored"] as? Int == 2 && j["failed"] as? Int == 2, "\(r.stdout)")
        let failed = ((j["failures"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String }.sorted()
        #expect(failed.count == 2 && failed.allSatisfy { $0.hasSuffix("b.txt") || $0.hasSuffix("d.txt") }, "\(failed)")
        let storedKeys = (j["stored_keys"] as? [String]) ?? []
        #expect(storedKeys.count == 2)
        for name in ["a.txt", "c.txt"] {
            let key = try #require(storedKeys.first { $0.hasSuffix(name) }, "\(storedKeys)")
            #expect(try d.ctl(["get", "docs", key]).status == 0, "\(key) was stored")
        }
        // Output that cannot be written: exit 1, not a silent truncation.
        let full = try runProgram("/bin/sh", ["-c", "\(Products.embedctl) --socket \(d.socketPath) search docs alpha --format json >/dev/full"])
        #expect(full.status == 1 && full.stderr.contains("cannot write to standard output"), "\(full.status) \(full.stderr)")
        d.stop()
    }

    @Test func progressBarOnlyOnATerminal() throws {
        let d = try Self.daemon()
        Self.ok(try d.ctl(["collection", "create", "docs", "--model", "fx"]))
        // A pipe: no bar, no carriage returns.
        let piped = try d.ctl(["add", "docs", "a", "b", "c", "--batch-size", "1"])
        Self.ok(piped)
        #expect(!piped.stderr.contains("\r") && !piped.stderr.contains("adding to"))
        // A terminal (script(1) gives the command a pseudo-terminal): the bar is drawn and cleared.
        let command = "\(Products.embedctl) --socket \(d.socketPath) add docs d e f --batch-size 1"
        let tty = try runProgram("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(tty.status == 0, "\(tty.stdout) \(tty.stderr)")
        #expect(tty.stdout.contains("adding to docs [") && tty.stdout.contains("3/3 100%"), "\(tty.stdout)")
        #expect(tty.stdout.contains("stored 3, failed 0 of 3 items"))
        d.stop()
    }

    @Test func helpUsageAndCompletion() throws {
        try Products.require()
        for args in [["collection", "--help"], ["collection", "create", "--help"], ["collection", "list", "--help"],
                     ["collection", "describe", "--help"], ["collection", "drop", "--help"], ["collection", "optimize", "--help"], ["add", "--help"],
                     ["search", "--help"], ["get", "--help"], ["delete", "--help"], ["stats", "--help"]] {
            let h = try runProgram(Products.embedctl, args)
            #expect(h.status == 0 && h.stdout.contains("Usage: embedctl"), "\(args)")
        }
        let addHelp = try runProgram(Products.embedctl, ["add", "--help"]).stdout
        #expect(addHelp.contains("--skip-existing") && addHelp.contains("--jsonl") && addHelp.contains("sha256:"))
        let searchHelp = try runProgram(Products.embedctl, ["search", "--help"]).stdout
        #expect(searchHelp.contains(#"{"results": [[{"key", "score", "metadata"}, ...], ...]}"#))
        // Usage errors exit 2 without contacting a daemon.
        let socket = ["--socket", "/nonexistent/embedd.sock"]
        for args in [["add"], ["add", "c"], ["add", "c", "--key", "k"], ["add", "c", "--key", "k", "a", "b"], ["add", "c", "--vector-json", "[1]"],
                     ["add", "c", "--key", "k", "--vector-json", "[1, x]"], ["add", "c", "--metadata", "[1]", "x"],
                     ["add", "c", "x", "--batch-size", "0"], ["add", "c", "x", "--key-prefix", "p"], ["search"], ["search", "c"], ["search", "c", "x", "-k", "0"],
                     ["get", "c"], ["get", "c", "k", "extra"], ["delete", "c"], ["stats", "a", "b"]] {
            let r = try runProgram(Products.embedctl, socket + args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.hasPrefix("embedctl: "), "\(args): \(r.stderr)")
        }
        // A runtime problem before sending (unreadable file, no daemon) exits 1.
        let noFile = try runProgram(Products.embedctl, socket + ["add", "c", "--file", "/nonexistent/file.txt"])
        #expect(noFile.status == 1 && noFile.stderr.contains("/nonexistent/file.txt"))
        let noMatch = try runProgram(Products.embedctl, socket + ["add", "c", "--file", "/nonexistent/*.txt"])
        #expect(noMatch.status == 1 && noMatch.stderr.contains("no file matches"))
        let noDaemon = try runProgram(Products.embedctl, socket + ["search", "c", "x"])
        #expect(noDaemon.status == 1 && noDaemon.stderr.contains("is embedd running?"))

        // Bash completion (generated by the binary) offers the new commands and their options.
        func complete(_ words: [String]) throws -> [String] {
            let script = """
            source <('\(Products.embedctl)' completion bash)
            COMP_WORDS=(\(words.map { "'\($0)'" }.joined(separator: " "))); COMP_CWORD=\(words.count - 1)
            _embedctl; printf '%s\\n' "${COMPREPLY[@]}"
            """
            return try runProgram("/bin/bash", ["-c", script]).stdout.split(separator: "\n").map(String.init)
        }
        #expect(try complete(["embedctl", "col"]) == ["collection"])
        #expect(Set(try complete(["embedctl", "collection", ""])).isSuperset(of: ["create", "list", "describe", "optimize", "drop"]))
        #expect(Set(try complete(["embedctl", "add", "docs", "--"])).isSuperset(of: ["--jsonl", "--npy", "--skip-existing", "--vector-json"]))
        #expect(Set(try complete(["embedctl", "search", "docs", "-"])).isSuperset(of: ["-k", "--ef", "--filter"]))
        #expect(try complete(["embedctl", "collection", "create", "x", "--metric", ""]) == ["cosine", "l2", "ip"])
    }
}
