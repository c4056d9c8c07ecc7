import EmbedStore
import EmbedSys

/// `embedstore-bench`: the Swift side of bench/ann and the ingest benchmark.
///
///     embedstore-bench build  --base B.npy --dir D [--metric cosine] [--m 16] [--efc 200] [--storage f32|f16|int8]
///                             [--labels L.npy]   (float32 (n, 1): row i gets metadata {"r": L[i]}, for bench/filter)
///     embedstore-bench query  --dir D --queries Q.npy --k 10 --ef 10,20,40 --out R.bin [--quantized 0] [--rerank F]
///                             [--filter JSON]    (every search filtered; see docs/operations.md, "Filters")
///     embedstore-bench ingest --dir D --dim 384 --writers 8 --records 100000 --batch 1
///
/// Prints one JSON object per command on stdout.
enum BenchCommand {
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        guard !args.isEmpty else { fail("usage: embedstore-bench build|query|ingest ...") }
        let command = args.removeFirst()
        var opts: [String: String] = [:]
        var i = 0
        while i < args.count {
            guard args[i].hasPrefix("--"), i + 1 < args.count else { fail("bad argument \(args[i])") }
            opts[String(args[i].dropFirst(2))] = args[i + 1]
            i += 2
        }
        do {
            switch command {
            case "build": try build(opts)
            case "query": try query(opts)
            case "optimize": try optimize(opts)
            case "ingest": try ingest(opts)
            default: fail("unknown command \(command)")
            }
        } catch {
            fail("\(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        try? FileDescriptor.standardError.writeAll(Array("embedstore-bench: \(message)\n".utf8))
        Environment.exit(2)
    }

    static func print(_ s: String) {
        try? FileDescriptor.standardOutput.writeAll(Array((s + "\n").utf8))
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static func catalog(_ dir: String, verification: OpenOptions.Verification = .background, quantized: Bool = true,
                        rerankFactor: Int = OpenOptions().rerankFactor) throws -> StoreCatalog {
        try StoreCatalog(directory: dir, options: OpenOptions(verification: verification, maxUnindexed: 10_000_000, quantizedSearch: quantized,
                                                              rerankFactor: rerankFactor),
                         logger: { level, msg in if level >= .warning { try? FileDescriptor.standardError.writeAll(Array("\(level): \(msg)\n".utf8)) } })
    }

    static func build(_ o: [String: String]) throws {
        guard let base = o["base"], let dir = o["dir"] else { fail("build needs --base and --dir") }
        let metric = Metric(name: o["metric"] ?? "cosine") ?? .cosine
        guard let storage = StorageType(rawValue: o["storage"] ?? "f32") else { fail("--storage takes f32, f16 or int8") }
        let t0 = ContinuousClock.now
        let data = try VectorImport.read(path: base)
        let labels = try o["labels"].map { try VectorImport.read(path: $0) }
        if let labels, labels.rows != data.rows { fail("--labels has \(labels.rows) rows, --base \(data.rows)") }
        let readSeconds = seconds(since: t0)
        let cat = try catalog(dir)
        if (try? cat.list())?.contains("bench") == true { try cat.drop("bench") }
        let c = try cat.create("bench", config: CollectionConfig(
            dimension: data.dimension, metric: metric, storage: storage,
            hnsw: HNSWParameters(m: Int(o["m"] ?? "16")!, efConstruction: Int(o["efc"] ?? "200")!)))
        let start = ContinuousClock.now
        var row = 0
        while row < data.rows {
            let end = min(data.rows, row + 10_000)
            try c.upsert((row..<end).map { i in
                Record(key: String(i), vector: data.row(i), metadata: labels.map { "{\"r\": \(Int($0.row(i)[0]))}" })
            })
            row = end
        }
        let ingestSeconds = seconds(since: start)
        try c.waitForIndexing()
        let buildSeconds = seconds(since: start)
        let cp = ContinuousClock.now
        try cat.close("bench")
        let checkpointSeconds = seconds(since: cp)
        print("{\"rows\": \(data.rows), \"dim\": \(data.dimension), \"read_s\": \(readSeconds), \"ingest_s\": \(ingestSeconds), \"build_s\": \(buildSeconds), \"checkpoint_s\": \(checkpointSeconds), \"peak_rss_bytes\": \(peakRSS())}")
    }

    /// VmHWM from /proc/self/status, in bytes.
    static func peakRSS() -> Int {
        let text = String(decoding: (try? FileSystem.readFile("/proc/self/status")) ?? [], as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return 0
    }

    static func optimize(_ o: [String: String]) throws {
        guard let dir = o["dir"] else { fail("optimize needs --dir") }
        let cat = try catalog(dir)
        let c = try cat.open("bench")
        let t0 = ContinuousClock.now
        try c.optimize()
        print("{\"optimize_s\": \(seconds(since: t0))}")
        try cat.closeAll()
    }

    static func query(_ o: [String: String]) throws {
        guard let dir = o["dir"], let qpath = o["queries"] else { fail("query needs --dir and --queries") }
        let k = Int(o["k"] ?? "10")!
        let efs = (o["ef"] ?? "10,20,40,80,160").split(separator: ",").map { Int($0)! }
        let queries = try VectorImport.read(path: qpath)
        let filter = try MetadataFilter(json: o["filter"] ?? "")
        let cat = try catalog(dir, verification: .headerOnly, quantized: o["quantized"] != "0",
                              rerankFactor: o["rerank"].flatMap { Int($0) } ?? OpenOptions().rerankFactor)
        let t0 = ContinuousClock.now
        let c = try cat.open("bench")
        let openSeconds = seconds(since: t0)
        let rows = (0..<queries.rows).map { queries.row($0) }
        // Warm-up pass (page in the mapping) so QPS measures search, not first-touch faults.
        for q in rows { _ = try c.search(q, k: k, ef: efs.max()!, filter: filter) }
        var out: [Int32] = []
        var parts: [String] = []
        for ef in efs {
            let start = ContinuousClock.now
            var ids: [Int32] = []
            ids.reserveCapacity(rows.count * k)
            for q in rows {
                let hits = try c.search(q, k: k, ef: ef, filter: filter)
                for j in 0..<k { ids.append(j < hits.count ? Int32(hits[j].key)! : -1) }
            }
            let s = seconds(since: start)
            out += ids
            parts.append("{\"ef\": \(ef), \"qps\": \(Double(rows.count) / s)}")
        }
        if let outPath = o["out"] {
            let fd = try FileDescriptor.open(outPath, [.writeOnly, .create, .truncate])
            try out.withUnsafeBytes { raw in try fd.writeAll(raw) }
            try fd.close()
        }
        let stats = c.stats()
        print("{\"open_s\": \(openSeconds), \"memory_bytes\": \(stats.memoryBytes), \"snapshot_bytes\": \(stats.snapshotBytes), \"runs\": [\(parts.joined(separator: ", "))]}")
    }

    static func ingest(_ o: [String: String]) throws {
        guard let dir = o["dir"] else { fail("ingest needs --dir") }
        let dim = Int(o["dim"] ?? "384")!
        let writers = Int(o["writers"] ?? "8")!
        let total = Int(o["records"] ?? "100000")!
        let batch = Int(o["batch"] ?? "1")!
        let cat = try StoreCatalog(directory: dir, options: OpenOptions(maxUnindexed: Int(o["max-unindexed"] ?? "1000000")!))
        if (try? cat.list())?.contains("ingest") == true { try cat.drop("ingest") }
        let c = try cat.create("ingest", config: CollectionConfig(dimension: dim, metric: .cosine))
        let perWriter = total / writers
        let start = ContinuousClock.now
        var threads: [OSThread] = []
        for w in 0..<writers {
            threads.append(try OSThread {
                var rng = UInt64(w + 1) &* 0x9E37_79B9_7F4A_7C15
                var i = 0
                while i < perWriter {
                    let n = min(batch, perWriter - i)
                    let recs = (0..<n).map { j -> Record in
                        let v = (0..<dim).map { _ -> Float in
                            rng = rng &* 6364136223846793005 &+ 1442695040888963407
                            return Float(rng >> 40) / Float(1 << 24) - 0.5
                        }
                        return Record(key: "w\(w)-\(i + j)", vector: v, metadata: "{\"w\":\(w)}")
                    }
                    do { try c.upsert(recs) } catch { fail("\(error)") }
                    i += n
                }
            })
        }
        for t in threads { t.join() }
        let s = seconds(since: start)
        let stats = c.stats()
        print("{\"writers\": \(writers), \"batch\": \(batch), \"records\": \(perWriter * writers), \"seconds\": \(s), \"acked_per_s\": \(Double(perWriter * writers) / s), \"unindexed_at_end\": \(stats.unindexed)}")
        try cat.drop("ingest")
    }
}
