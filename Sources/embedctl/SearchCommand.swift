import EmbedCLI
import EmbedClient
import EmbedSys
import EmbedWire

/// `embedctl search NAME ...`: nearest neighbours by text, file or vector.
enum SearchCommand {
    /// Queries per request when many are given (--npy): bounded so one call stays small.
    static let queriesPerCall = 64

    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "search", abstract: "Search a collection by text, file or vector.",
            discussion: """
            Queries, in command-line order: TEXT arguments and --file (embedded by the collection's model),
            --vector-json '[...]', and --npy FILE (one query per row of a float32 (n, dim) array).

            --filter keeps the records whose metadata matches a JSON filter (docs/operations.md, "Filters"):
            '{"lang": "en"}' (equality), '{"year": [2023, 2024]}' (any of), operators such as
            '{"year": {"$gte": 2020, "$lt": 2025}, "tags": {"$contains": "go"}}' ($eq $ne $gt $gte $lt $lte
            $in $nin $exists $contains $not), and '{"$or": [{...}, {...}]}', "$and", "$not". The daemon
            checks it; its message names the problem and the byte.

            --format json prints {"results": [[{"key", "score", "metadata"}, ...], ...]}: one list per
            query, in query order, best first. The score is the cosine similarity, the L2 distance or the
            dot product, by the collection's metric; metadata is the stored object, or null.

            --prompt NAME prepends the model's sentence-transformers prompt NAME to text queries (e.g.
            query); without it the collection's query prompt applies (collection create --query-prompt),
            else the model's default prompt; --prompt none applies none.
            """)
        var output = FormatOptions()
        var collection = ""
        var texts: [Ordered<String>] = []
        var k: Int?
        var ef: Int?
        /// Sent as written: the daemon parses it, so its messages (and byte offsets) are the
        /// same here and in every client.
        var filter: String?
        var files = FileInputOptions()
        var vectors: [Ordered<[Float]>] = []
        var npy: [Ordered<String>] = []
        var model: String?
        var prompt: String?
        var connection = ConnectionOptions()

        static var arguments: [Argument<Self>] {
            [
                .group(\.output),
                .argument("NAME", \.collection, .collection),
                .argumentsInOrder("TEXT", \.texts, .string),
                .option("-k", "--k", value: "N", help: "results per query (default 10)", \.k, .integer(max: 10_000)),
                .option("--ef", value: "N", help: "search breadth (default: the collection's; at least k)", \.ef, .integer(max: 100_000)),
                .option("--filter", value: "JSON", help: "metadata filter, e.g. '{\"lang\": \"en\", \"year\": {\"$gte\": 2023}}'", \.filter, .string),
                .group(\.files),
                .inOrder("--vector-json", value: "JSON", help: "query by a vector, e.g. '[0.1, 0.2]'", \.vectors,
                         ValueParser { (text, name) throws(CLIError) in try JSONNode.parse(text, what: name).floats(what: name) }),
                .inOrder("--npy", value: "FILE", help: "query by each row of a float32 (n, dim) .npy array", \.npy, .file),
                .option("--model", value: "MODEL", help: "refuse unless the collection's model embeds into this model's space", \.model, .model),
                .option("--prompt", value: "NAME", help: "the model's prompt for text queries (default: the collection's query prompt)",
                        \.prompt, .prompt),
                .group(\.connection),
            ]
        }

        func run() throws(CLIError) { try SearchCommand.run(self) }
    }

    /// One query and a label for the table output.
    enum Query {
        case text(String)
        case file(String)
        case vector([Float])
    }

    /// A query as given on the command line.
    enum Source {
        case text(String), file(String), vector([Float]), npy(String)
    }

    static func gather(_ args: Search) throws(CLIError) -> [(Query, String)] {
        var queries: [(Query, String)] = []
        let sources = [Ordered<Source>].inCommandLineOrder([
            args.texts.map { $0.map(Source.text) }, args.files.files.map { $0.map(Source.file) },
            args.vectors.map { $0.map(Source.vector) }, args.npy.map { $0.map(Source.npy) },
        ])
        for source in sources {
            switch source.value {
            case .text(let value):
                if value.isEmpty { throw .usage("a query text is empty") }
                queries.append((.text(value), value))
            case .file(let value):
                for path in try AddInputs.expand(value) { queries.append((.file(path), path)) }
            case .vector(let v):
                queries.append((.vector(v), "vector [\(v.prefix(3).map(EmbedCommand.format4).joined(separator: ", "))\(v.count > 3 ? ", ..." : "")]"))
            case .npy(let value):
                let m = try NPYMatrix.decode(try EmbedCommand.readFile(value), name: value)
                for r in 0..<m.rows { queries.append((.vector(m.row(r)), "\(value) row \(r)")) }
            }
        }
        if queries.isEmpty {
            throw .usage("nothing to search for: give a TEXT, --file PATH, --vector-json '[...]' or --npy FILE\nSee 'embedctl search --help'.")
        }
        return queries
    }

    static func run(_ args: Search) throws(CLIError) {
        let collection = args.collection
        let queries = try gather(args)
        let k = args.k ?? 10
        let ef = args.ef ?? 0
        let filter = args.filter ?? ""
        let g = args.connection
        let client = try g.connect()
        defer { client.close() }
        var results: [[SearchHit]] = []
        results.reserveCapacity(queries.count)
        var start = 0
        while start < queries.count {
            let chunk = queries[start..<min(start + queriesPerCall, queries.count)]
            var wire: [SearchQuery] = []
            var files: [FileDescriptor] = []
            defer { for fd in files { try? fd.close() } }
            for (q, _) in chunk {
                switch q {
                case .text(let s): wire.append(.text(s))
                case .vector(let v): wire.append(.vector(v))
                case .file(let path):
                    if args.files.sendBytes {
                        let bytes = try EmbedCommand.readFile(path)
                        switch FileInputs.bytesInput(path: path, bytes: bytes, mime: args.files.mime) {
                        case .success(let input): wire.append(SearchQuery(.input(input)))
                        case .failure(let e): throw e
                        }
                    } else {
                        let fd: FileDescriptor
                        do { fd = try FileDescriptor.open(path, .readOnly) } catch { throw .runtime("cannot open \(path): \(error)") }
                        files.append(fd)
                        let ref = FileRef(index: UInt32(files.count - 1), mimeType: FileInputs.mimeType(path: path, override: args.files.mime))
                        wire.append(SearchQuery(.input(Input(.file(ref)))))
                    }
                }
            }
            let response: SearchResponse
            do {
                response = try client.search(collection, wire, k: k, ef: ef, filter: filter, model: args.model ?? "",
                                             files: files, prompt: args.prompt ?? "", deadlineMilliseconds: g.deadlineMilliseconds)
            } catch {
                throw .runtime(error.description)
            }
            guard response.results.count == wire.count else {
                throw .runtime("the daemon answered \(response.results.count) results for \(wire.count) queries")
            }
            results += response.results.map(\.hits)
            start += chunk.count
        }

        if args.output.json {
            Output.out(json(results))
        } else {
            var out = ""
            for (i, hits) in results.enumerated() {
                if queries.count > 1 { out += (i == 0 ? "" : "\n") + "query \(i + 1): \(AddCommand.display(queries[i].1))\n" }
                if hits.isEmpty { out += "no results\n"; continue }
                // Segment hits (KEY#t=START,END, stored with add --segments) say where in the recording.
                let times = hits.map { segmentTime($0.key) }
                let timed = times.contains(where: { $0 != nil })
                // Texts added from the command line are their own keys: the column would repeat them.
                let documents = hits.contains { !$0.document.isEmpty && StoreRendering.documentSummary($0.document) != AddCommand.display($0.key) }
                let header = ["#", "SCORE", "KEY"] + (timed ? ["TIME"] : []) + (documents ? ["DOCUMENT"] : []) + ["METADATA"]
                out += Table.render(header, hits.enumerated().map { r, h in
                    [String(r + 1), EmbedCommand.format4(h.score), AddCommand.display(h.key)] + (timed ? [times[r] ?? ""] : [])
                        + (documents ? [StoreRendering.documentSummary(h.document)] : []) + [h.metadata.replacing("\n", with: " ")]
                })
            }
            Output.out(out)
        }
    }

    /// "12.5–30 s", or "1:05.5–1:35.5" past a minute, for a segment key `…#t=START,END` (a W3C
    /// media fragment, as `add --segments` stores them); nil for other keys.
    static func segmentTime(_ key: String) -> String? {
        guard let mark = key.ranges(of: "#t=").last else { return nil }
        let parts = key[mark.upperBound...].split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let s = Double(parts[0]), let e = Double(parts[1]), s.isFinite, e.isFinite, s >= 0, e >= s else { return nil }
        guard e >= 60 else { return "\(EmbedCommand.seconds(s))–\(EmbedCommand.seconds(e)) s" }
        func clock(_ t: Double) -> String {
            let minutes = Int(t / 60)
            let rest = EmbedCommand.seconds(t - Double(minutes * 60))
            return "\(minutes):" + ((rest.split(separator: ".").first?.count ?? 0) < 2 ? "0" : "") + rest
        }
        return clock(s) + "–" + clock(e)
    }

    /// `{"results": [[{"key", "score", "metadata", "document"}, ...], ...]}`: the scripting contract.
    static func json(_ results: [[SearchHit]]) -> String {
        var out = "{\"results\": ["
        for (i, hits) in results.enumerated() {
            out += i == 0 ? "\n  [" : ",\n  ["
            for (j, h) in hits.enumerated() {
                out += (j == 0 ? "\n    " : ",\n    ")
                out += "{\"key\": \(JSON.string(h.key)), \"score\": \(JSON.number(h.score)), \"metadata\": \(StoreRendering.metadataJSON(h.metadata)), "
                    + "\"document\": \(StoreRendering.metadataJSON(h.document))}"
            }
            out += hits.isEmpty ? "]" : "\n  ]"
        }
        out += results.isEmpty ? "]}\n" : "\n]}\n"
        return out
    }
}
