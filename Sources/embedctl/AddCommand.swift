import EmbedSys
import EmbedWire

/// `embedctl add NAME ...`: stores texts, files or vectors in a collection.
enum AddCommand {
    static var command: Command {
        Command(
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
            """,
            arguments: "NAME [TEXT...]",
            options: [
                Commands.formatOption,
                OptionSpec(names: ["--key"], valueName: "KEY", help: "key of the single item"),
                OptionSpec(names: ["--file", "-f"], valueName: "PATH", help: "a file or a quoted glob (key: the path)", repeatable: true),
                OptionSpec(names: ["--vector-json"], valueName: "JSON", help: "the single item's vector, e.g. '[0.1, 0.2]' (needs --key)"),
                OptionSpec(names: ["--metadata"], valueName: "JSON", help: "metadata object, e.g. '{\"lang\": \"en\"}'"),
                OptionSpec(names: ["--jsonl"], valueName: "FILE", help: "one {\"key\", \"text\"|\"path\"|\"vector\", \"metadata\"} per line (- = stdin)",
                           repeatable: true),
                OptionSpec(names: ["--npy"], valueName: "FILE", help: "vectors as a float32 (n, dim) .npy array, keyed by row", repeatable: true),
                OptionSpec(names: ["--key-prefix"], valueName: "PREFIX", help: "prefix of --npy row keys"),
                OptionSpec(names: ["--mime"], valueName: "TYPE", help: "media type of every --file (default: from the extension)"),
                OptionSpec(names: ["--skip-existing"], valueName: nil, help: "leave keys that are already stored alone (resume)"),
                OptionSpec(names: ["--batch-size"], valueName: "N", help: "items per request (default 64)"),
                OptionSpec(names: ["--model"], valueName: "MODEL", help: "refuse unless the collection's model embeds into this model's space"),
                OptionSpec(names: ["--send-bytes"], valueName: nil, help: "read files here and send their bytes instead of descriptors"),
            ],
            minPositionals: 1, maxPositionals: Int.max
        ) { (args, g) throws(CLIError) in
            try run(args, g)
        }
    }

    static func run(_ args: ParsedArguments, _ g: GlobalOptions) throws(CLIError) {
        let collection = args.positionals[0]
        // The collection is the first positional; the rest are texts.
        var rest = args
        if let i = rest.ordered.firstIndex(where: { $0.0 == "" }) { rest.ordered.remove(at: i) }
        rest.positionals.removeFirst()
        var items = try AddInputs.gather(rest)
        items = dedupe(items)

        var options = BulkUpsert.Options(collection: collection)
        options.model = args.value("--model") ?? ""
        options.skipExisting = args.has("--skip-existing")
        options.sendBytes = args.has("--send-bytes")
        options.mime = args.value("--mime")
        options.deadlineMilliseconds = g.deadlineMilliseconds
        options.retrySeconds = min(g.timeoutSeconds, 60)
        if let b = args.value("--batch-size") { options.batchSize = Int(try CollectionCommand.number(b, "--batch-size", max: 4096)) }

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

        if args.value("--format") == "json" {
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
