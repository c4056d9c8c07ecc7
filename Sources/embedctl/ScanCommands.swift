import EmbedCLI
import EmbedClient
import EmbedWire

/// `embedctl keys` and `embedctl dump`: page through a collection in key order (the Scan call).
enum ScanCommands {
    /// The options both commands share.
    struct Range: ParsableArguments {
        var filter: String?
        var after: String?
        var limit: Int?

        static var arguments: [Argument<Self>] {
            [
                .option("--filter", value: "JSON", help: "only records whose metadata matches (as search --filter)", \.filter, .string),
                .option("--after", value: "KEY", help: "start after this key (it need not exist)", \.after, .string),
                .option("--limit", value: "N", help: "at most N records (default: all)", \.limit, .integer(max: Int(Int32.max))),
            ]
        }

        /// Calls `page` with each page of records until the limit or the end; returns the key
        /// to continue from when the limit stopped it early, else nil.
        func pages(_ collection: String, vectors: Bool, pageSize: Int, _ connection: ConnectionOptions,
                   _ page: ([ScanRecord]) -> Void) throws(CLIError) -> String? {
            let filterJSON = filter ?? ""  // sent as written: the daemon's message names any mistake
            let client = try connection.connect()
            defer { client.close() }
            var cursor = after ?? ""
            var left = limit ?? Int.max
            while left > 0 {
                let r: ScanResponse
                do throws(ClientError) {
                    r = try client.scan(collection, after: cursor, limit: min(left, pageSize), filter: filterJSON, vectors: vectors)
                } catch { throw .runtime(error.description) }
                page(r.records)
                left -= r.records.count
                if r.nextAfter.isEmpty { return nil }
                cursor = r.nextAfter
            }
            return cursor
        }
    }

    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "keys", abstract: "List a collection's keys in byte order, all or a page of them.",
            discussion: """
            One key per line. With --limit, a last line on standard error says how to go on
            ("more after KEY: --after KEY"). --format json prints {"keys": [...], "next_after": KEY or null}.
            Pages are read in key order while writes go on: a key added meanwhile is listed when it
            sorts after the current position.
            """)
        var output = FormatOptions()
        var collection = ""
        var range = Range()
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] {
            [.group(\.output), .argument("NAME", \.collection, .collection), .group(\.range), .group(\.connection)]
        }

        func run() throws(CLIError) {
            var keys: [String] = []
            let json = output.json
            let next = try range.pages(collection, vectors: false, pageSize: 10_000, connection) { records in
                if json {
                    keys += records.map(\.key)
                } else {
                    Output.out(records.map { $0.key + "\n" }.joined())
                }
            }
            if json {
                Output.out("{\"keys\": [" + keys.map(JSON.string).joined(separator: ", ") + "], \"next_after\": "
                           + (next.map(JSON.string) ?? "null") + "}\n")
            } else if let next {
                Output.err("more after \(JSON.string(next)): --after \(shellQuoted(next))\n")
            }
        }
    }

    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "dump", abstract: "Export a collection as JSON lines, in key order.",
            discussion: """
            One object per record: {"key": ..., "metadata": {...} or null, "document": {...} or null}
            and, with --vectors, "vector": [...]. The lines load back with
            'embedctl add NAME --jsonl FILE' (vectors given, no re-embedding) and into pandas or jq.
            Example: embedctl dump docs --vectors > docs.jsonl
            """)
        var collection = ""
        var vectors = false
        var range = Range()
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] {
            [.argument("NAME", \.collection, .collection), .flag("--vectors", help: "include each record's vector", \.vectors),
             .group(\.range), .group(\.connection)]
        }

        func run() throws(CLIError) {
            let withVectors = vectors
            let next = try range.pages(collection, vectors: withVectors, pageSize: withVectors ? 1000 : 10_000, connection) { records in
                var out = ""
                for r in records {
                    out += "{\"key\": \(JSON.string(r.key)), \"metadata\": \(StoreRendering.metadataJSON(r.metadata)), "
                        + "\"document\": \(StoreRendering.metadataJSON(r.document))"
                    if withVectors { out += ", \"vector\": [" + (r.vector?.values ?? []).map(JSON.number).joined(separator: ", ") + "]" }
                    out += "}\n"
                }
                Output.out(out)
            }
            if let next { Output.err("more after \(JSON.string(next)): --after \(shellQuoted(next))\n") }
        }
    }

    /// `key` quoted for a POSIX shell.
    static func shellQuoted(_ key: String) -> String { "'" + key.replacing("'", with: #"'\''"#) + "'" }
}
