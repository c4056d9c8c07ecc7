import EmbedCLI
import EmbedSys
import EmbedWire

/// `embedctl add NAME ...`: stores texts, files or vectors in a collection.
enum AddCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "add", abstract: "Add texts, files or vectors to a collection (embedded by its model).",
            discussion: """
            One item:   add NAME --key K (TEXT | --file PATH | --vector-json '[...]') [--metadata '{...}']
            Many items: add NAME [TEXT...] [--file PATH|GLOB...] [--jsonl FILE] [--npy FILE]

            Keys: a TEXT is its own key (texts over 1024 bytes: "sha256:" + the hex SHA-256 of the text);
            a file's key is its path as written (or as a quoted glob expanded it); --jsonl lines carry
            {"key", "text" | "path" | "vector", "metadata"} ("key" may be left out for text and path);
            --npy rows (a float32 or float64 2-D array) are keyed by row number: "0", "1", ... after
            --key-prefix. An existing key is replaced; a key given twice is stored once (the last wins).
            --metadata (a JSON object) applies to every item that has none of its own.

            Files are read by embedctl, never by path in the daemon: each is passed as an open
            descriptor (SCM_RIGHTS), or read and sent as bytes with --send-bytes. The type comes from
            --mime, else the extension (.txt and .md are text).

            Items go in batches of --batch-size; the daemon answers after the batch is durable (WAL
            fsync'd). Output lists what was stored, skipped and failed, with the reason per key; the exit
            status is 0 only when every item was stored (or skipped with --skip-existing). Keys of a batch
            whose answer never came are reported failed ("may or may not be stored"): re-run the same
            command with --skip-existing to finish. A progress bar is drawn on standard error when it is
            a terminal.

            --format json prints {"collection", "stored", "skipped", "failed", "stored_keys": [...],
            "skipped_keys": [...], "failures": [{"key", "error"}, ...]}.
            """)
        var output = FormatOptions()
        var collection = ""
        var texts: [Ordered<String>] = []
        var key: String?
        var files = FileInputOptions()
        /// The single item's vector, as written (parsed once we know it has a --key).
        var vectorJSON: [Ordered<String>] = []
        /// Validated: one JSON object.
        var metadata: String?
        var jsonl: [Ordered<String>] = []
        var npy: [Ordered<String>] = []
        var keyPrefix: String?
        var skipExisting = false
        var batchSize: Int?
        var model: String?
        var connection = ConnectionOptions()

        static var arguments: [Argument<Self>] {
            [
                .group(\.output),
                .argument("NAME", \.collection, .collection),
                .argumentsInOrder("TEXT", \.texts, .string),
                .option("--key", value: "KEY", help: "key of the single item", \.key,
                        ValueParser { (text, name) throws(CLIError) in try AddItem.validate(key: text, origin: name); return text }),
                .group(\.files),
                .inOrder("--vector-json", value: "JSON", help: "the single item's vector, e.g. '[0.1, 0.2]' (needs --key)", repeatable: false,
                         \.vectorJSON, .string),
                .option("--metadata", value: "JSON", help: "metadata object, e.g. '{\"lang\": \"en\"}'", \.metadata,
                        ValueParser { (text, name) throws(CLIError) in try AddItem.validate(metadata: text, origin: name) }),
                .inOrder("--jsonl", value: "FILE", help: "one {\"key\", \"text\"|\"path\"|\"vector\", \"metadata\"} per line (- = stdin)",
                         \.jsonl, .file),
                .inOrder("--npy", value: "FILE", help: "vectors as a float32 (n, dim) .npy array, keyed by row", \.npy, .file),
                .option("--key-prefix", value: "PREFIX", help: "prefix of --npy row keys", \.keyPrefix, .string),
                .flag("--skip-existing", help: "leave keys that are already stored alone (resume)", \.skipExisting),
                .option("--batch-size", value: "N", help: "items per request (default 64)", \.batchSize, .integer(max: 4096)),
                .option("--model", value: "MODEL", help: "refuse unless the collection's model embeds into this model's space", \.model, .model),
                .group(\.connection),
            ]
        }

        func validate() throws(CLIError) {
            if keyPrefix != nil && npy.isEmpty { throw .usage("--key-prefix applies to --npy rows; give --npy FILE") }
        }

        func run() throws(CLIError) { try AddCommand.run(self) }
    }

    static func run(_ args: Add) throws(CLIError) {
        let collection = args.collection
        var items = try AddInputs.gather(args)
        items = dedupe(items)

        var options = BulkUpsert.Options(collection: collection)
        options.model = args.model ?? ""
        options.skipExisting = args.skipExisting
        options.sendBytes = args.files.sendBytes
        options.mime = args.files.mime
        let g = args.connection
        options.deadlineMilliseconds = g.deadlineMilliseconds
        options.retrySeconds = min(g.timeoutSeconds, 60)
        if let b = args.batchSize { options.batchSize = b }

        let client = try g.connect()
        defer { client.close() }
        // Readers of the collection learn its shape; others find out from the Upsert answer.
        if let info = try? client.describeCollection(collection) {
            options.dimension = Int(info.dimension)
            options.boundModel = info.model
        }
        let frameLimit = Int(client.serverHello.maxFrameBytes)
        if frameLimit > 0 { options.maxBatchBytes = max(1 << 16, min(options.maxBatchBytes, frameLimit / 2)) }
        let bulk = BulkUpsert(client: client, options: options)
        bulk.run(items, progress: ProgressBar(total: items.count, label: "adding to \(collection)"))

        if args.output.json {
            Output.out(JSON.object([
                ("collection", JSON.string(collection)),
                ("stored", String(bulk.stored.count)), ("skipped", String(bulk.skipped.count)), ("failed", String(bulk.failures.count)),
                ("stored_keys", JSON.array(bulk.stored.map(JSON.string), indent: "  ")),
                ("skipped_keys", JSON.array(bulk.skipped.map(JSON.string), indent: "  ")),
                ("failures", JSON.array(bulk.failures.map { "{\"key\": \(JSON.string($0.key)), \"error\": \(JSON.string($0.error))}" }, indent: "  ")),
            ]) + "\n")
        } else {
            var out = "stored \(bulk.stored.count)"
            if options.skipExisting { out += ", skipped \(bulk.skipped.count) existing" }
            out += ", failed \(bulk.failures.count) of \(items.count) item\(items.count == 1 ? "" : "s") in collection \(collection)\n"
            if !bulk.failures.isEmpty {
                out += "\nfailed:\n" + Table.render(["KEY", "ERROR"], bulk.failures.map { [display($0.key), $0.error] })
            }
            Output.out(out)
        }
        if !bulk.failures.isEmpty {
            throw .runtime("\(bulk.failures.count) of \(items.count) item\(items.count == 1 ? "" : "s") not stored (see the list above)")
        }
    }

    /// Keeps the last item of each key, in order, and warns about the others.
    static func dedupe(_ items: [AddItem]) -> [AddItem] {
        var last: [String: Int] = [:]
        for (i, item) in items.enumerated() { last[item.key] = i }
        guard last.count < items.count else { return items }
        var warned = 0
        var out: [AddItem] = []
        out.reserveCapacity(last.count)
        for (i, item) in items.enumerated() {
            if last[item.key] == i { out.append(item); continue }
            if warned < 5 {
                Output.err("embedctl: warning: key \(display(item.key)) (\(item.origin)) is given again later; the last one is stored\n")
            }
            warned += 1
        }
        if warned > 5 { Output.err("embedctl: warning: \(warned - 5) more repeated keys\n") }
        return out
    }

    /// A key on one table line: newlines shown as \n, long keys shortened.
    static func display(_ key: String) -> String {
        let flat = key.replacing("\n", with: "\\n")
        return flat.count > 60 ? String(flat.prefix(57)) + "..." : flat
    }
}
