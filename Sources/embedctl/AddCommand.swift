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

            Items go in batches of --batch-size, two in flight; the daemon answers after the batch is
            durable (WAL fsync'd). Output lists what was stored, skipped, failed and not sent, with the
            reason per key (calls that failed as a whole: one line per reason); the exit status is 0
            only when every item was stored (or skipped with --skip-existing). Keys of a batch whose
            answer never came are "not acknowledged" (may or may not be stored). A progress bar with an
            ETA, counting what the daemon answered, is drawn on standard error when it is a terminal.

            Ctrl-C stops sending, waits for the batches in flight, prints the summary (stored, skipped,
            not sent) and the command to resume, and exits 130; a second Ctrl-C quits at once. A daemon
            that goes away mid-load gives one summary line and the same resume command (exit 1). The
            resume command is this command line with --skip-existing added.

            --format json prints {"collection", "stored", "skipped", "failed", "not_sent", "interrupted",
            "stored_keys": [...], "skipped_keys": [...], "truncated": [{"key", "tokens", "used"}, ...],
            "failures": [{"key", "error"}, ...], "not_sent_keys": [...]}: "failures" lists every key not
            stored, the ones not sent too.

            A text longer than the model's token window is cut to it and stored; embedctl warns on
            standard error naming such keys, and --format json lists them under "truncated".
            --no-truncate fails those items instead (each alone, naming its length).

            --segments (audio and video collections): besides KEY (the whole recording) the daemon
            stores one record per 30-s window, KEY#t=START,END (seconds, at most 3 decimals), whose
            metadata holds "start", "end" and "segment_of"; KEY's metadata lists them under
            "segments". A search then answers where in a recording the match is. Adding KEY again
            replaces its segments; deleting KEY deletes them.

            Videos (--file clip.mp4, in a collection bound to CLIP): the daemon hands each file to
            the video model of the collection's space, which samples frames and embeds them with
            CLIP (docs/video.md); with --segments, each 10-s window gets a record too. A video
            model with an audio model also embeds the sound track into --sound-collection (default
            NAME.sound, created on first use) under the same keys; a video without sound says so
            and is not a failure. A long video takes a while: raise --timeout (default 120 s).
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
        var noTruncate = false
        var segments = false
        var soundCollection: String?
        var batchSize: Int?
        var model: String?
        var prompt: String?
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
                .flag("--no-truncate", help: "fail texts longer than the model's window instead of cutting them", \.noTruncate),
                .flag("--segments", help: "also store each recording's time windows as KEY#t=START,END (audio, video)", \.segments),
                .option("--sound-collection", value: "NAME", help: "where videos' sound vectors go (default COLLECTION.sound)",
                        \.soundCollection, .collection),
                .option("--batch-size", value: "N", help: "items per request (default 64)", \.batchSize, .integer(max: 4096)),
                .option("--model", value: "MODEL", help: "refuse unless the collection's model embeds into this model's space", \.model, .model),
                .option("--prompt", value: "NAME", help: "the model's prompt for texts (default: the collection's add prompt)", \.prompt, .prompt),
                .group(\.connection),
            ]
        }

        func validate() throws(CLIError) {
            if keyPrefix != nil && npy.isEmpty { throw .usage("--key-prefix applies to --npy rows; give --npy FILE") }
        }

        func run() throws(CLIError) { try AddCommand.run(self) }

        /// Whether an input is read from standard input (a resumed run needs it again).
        var readsStandardInput: Bool { jsonl.contains { $0.value == "-" } || npy.contains { $0.value == "-" } }
    }

    static func run(_ args: Add) throws(CLIError) {
        let collection = args.collection
        var items = try AddInputs.gather(args)
        items = dedupe(items)

        var options = BulkUpsert.Options(collection: collection)
        options.model = args.model ?? ""
        options.prompt = args.prompt ?? ""
        options.skipExisting = args.skipExisting
        options.truncation = args.noTruncate ? .off : .default
        options.segments = args.segments
        options.soundCollection = args.soundCollection ?? ""
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
        let bulk = BulkUpsert(client: client, options: options)
        let interrupt = Interrupt.watch()
        bulk.run(items, progress: ProgressBar(total: items.count, label: "adding to \(collection)"), interrupt: interrupt) { inFlight in
            let waiting = inFlight == 0 ? "" : ", waiting for \(inFlight) call\(inFlight == 1 ? "" : "s") in flight (Ctrl-C again to quit at once)"
            Output.err("embedctl: interrupted: sending no more\(waiting)\n")
        }
        interrupt.stop()

        let total = items.count
        let plural = total == 1 ? "" : "s"
        if let first = bulk.truncated.first {
            let named = bulk.truncated.prefix(5).map { "\(display($0.key)) (\($0.tokens) tokens)" }.joined(separator: ", ")
            let more = bulk.truncated.count > 5 ? ", and \(bulk.truncated.count - 5) more" : ""
            Output.err("embedctl: warning: \(bulk.truncated.count) stored text\(bulk.truncated.count == 1 ? " was" : "s were") cut to the "
                       + "model's \(first.used)-token window: \(named)\(more) (--no-truncate fails them instead)\n")
        }
        if args.output.json {
            var interrupted = false
            if case .interrupted? = bulk.stop { interrupted = true }
            // "failures" lists every key not stored, the ones never sent too (as it always has);
            // "not_sent_keys" names those apart.
            let notSentReason = interrupted ? "not sent: interrupted" : "not sent: stopped after an earlier error"
            let failures = bulk.failures.map { ($0.key, $0.error) } + bulk.notSent.map { ($0, notSentReason) }
            Output.out(JSON.object([
                ("collection", JSON.string(collection)),
                ("stored", String(bulk.stored.count)), ("segments", String(bulk.segmentsStored)),
                ("sound", JSON.object([
                    ("stored", JSON.object(bulk.soundStored.sorted { $0.key < $1.key }.map { ($0.key, String($0.value)) })),
                    ("absent_keys", JSON.array(bulk.soundAbsent.map(JSON.string), indent: "    ")),
                    ("failures", JSON.array(bulk.soundFailed.map { "{\"key\": \(JSON.string($0.key)), \"error\": \(JSON.string($0.error))}" },
                                            indent: "    ")),
                ], indent: "  ")),
                ("skipped", String(bulk.skipped.count)), ("failed", String(failures.count)),
                ("not_sent", String(bulk.notSent.count)), ("interrupted", interrupted ? "true" : "false"),
                ("stored_keys", JSON.array(bulk.stored.map(JSON.string), indent: "  ")),
                ("skipped_keys", JSON.array(bulk.skipped.map(JSON.string), indent: "  ")),
                ("truncated", JSON.array(bulk.truncated.map { "{\"key\": \(JSON.string($0.key)), \"tokens\": \($0.tokens), \"used\": \($0.used)}" },
                                         indent: "  ")),
                ("failures", JSON.array(failures.map { "{\"key\": \(JSON.string($0.0)), \"error\": \(JSON.string($0.1))}" }, indent: "  ")),
                ("not_sent_keys", JSON.array(bulk.notSent.map(JSON.string), indent: "  ")),
            ]) + "\n")
        } else {
            var out = "stored \(bulk.stored.count)"
            if options.skipExisting { out += ", skipped \(bulk.skipped.count) existing" }
            out += ", failed \(bulk.failures.count - bulk.unacknowledged)"
            if bulk.unacknowledged > 0 { out += ", not acknowledged \(bulk.unacknowledged)" }
            if !bulk.notSent.isEmpty { out += ", not sent \(bulk.notSent.count)" }
            out += " of \(total) item\(plural) in collection \(collection)"
            if options.segments { out += " (with \(bulk.segmentsStored) segment\(bulk.segmentsStored == 1 ? "" : "s"))" }
            out += "\n"
            for (where_, n) in bulk.soundStored.sorted(by: { $0.key < $1.key }) {
                out += "sound: \(n) video\(n == 1 ? "'s" : "s'") sound stored in collection \(where_)\n"
            }
            if !bulk.soundAbsent.isEmpty {
                out += "sound: \(bulk.soundAbsent.count) video\(bulk.soundAbsent.count == 1 ? " has" : "s have") no sound track: "
                    + bulk.soundAbsent.prefix(5).map(display).joined(separator: ", ") + (bulk.soundAbsent.count > 5 ? ", …" : "") + "\n"
            }
            if !bulk.soundFailed.isEmpty {
                out += "\nsound failed (the pictures are stored):\n" + Table.render(["KEY", "ERROR"], bulk.soundFailed.map { [display($0.key), $0.error] })
            }
            // Items that failed for a reason of their own, one line each; calls that failed as a
            // whole (refused, or never answered), one line per reason.
            let own = bulk.failures.filter { !$0.wholeCall }
            if !own.isEmpty {
                out += "\nfailed:\n" + Table.render(["KEY", "ERROR"], own.map { [display($0.key), $0.error] })
            }
            var reasons: [(String, Int)] = []
            for f in bulk.failures where f.wholeCall {
                if let i = reasons.firstIndex(where: { $0.0 == f.error }) { reasons[i].1 += 1 } else { reasons.append((f.error, 1)) }
            }
            if !reasons.isEmpty {
                out += own.isEmpty ? "\nfailed:\n" : ""
                for (reason, n) in reasons { out += "  \(n) item\(n == 1 ? "" : "s"): \(reason)\n" }
            }
            Output.out(out)
        }

        // One summary on standard error, and the command that finishes the job where re-running helps.
        let resume = "to resume: " + resumeCommand() + (args.readsStandardInput ? "   (with the same standard input)" : "")
        let unacknowledged = bulk.unacknowledged == 0 ? "" : "; \(bulk.unacknowledged) sent but not acknowledged (may or may not be stored)"
        let counts = "stored \(bulk.stored.count), skipped \(bulk.skipped.count), failed \(bulk.failures.count - bulk.unacknowledged), "
            + "not sent \(bulk.notSent.count) of \(total) item\(plural)\(unacknowledged)"
        switch bulk.stop {
        case .interrupted?:
            throw CLIError(exitCode: 130, message: "interrupted: \(counts)\n\(resume)")
        case .failed(let error)? where error.status == nil || error.status == .unavailable || error.status == .deadlineExceeded:
            // The daemon went away, or stopped answering: one line, not one per key.
            let notStored = bulk.failures.count + bulk.notSent.count
            throw .runtime("stopped: \(error.description): \(notStored) of \(total) item\(plural) not stored (\(counts))\n\(resume)")
        default:
            if !bulk.failures.isEmpty || !bulk.notSent.isEmpty {
                let notStored = bulk.failures.count + bulk.notSent.count
                throw .runtime("\(notStored) of \(total) item\(plural) not stored (see the list above)")
            }
        }
    }

    /// The command line that was run, with `--skip-existing` added (before a `--`, after which
    /// it would be a text), quoted for a POSIX shell.
    static func resumeCommand(_ argv: [String] = CommandLine.arguments) -> String {
        var words = argv
        if !words.dropFirst().contains("--skip-existing") {
            if let dashes = words.dropFirst().firstIndex(of: "--") { words.insert("--skip-existing", at: dashes) } else { words.append("--skip-existing") }
        }
        return words.map(shellQuoted).joined(separator: " ")
    }

    /// `word` as a POSIX shell reads it back: bare when it is safe, else in single quotes.
    static func shellQuoted(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%")
        if !word.isEmpty && word.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacing("'", with: "'\\''") + "'"
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
