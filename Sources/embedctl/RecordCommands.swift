import EmbedClient
import EmbedWire

/// `embedctl get`, `embedctl delete` and `embedctl stats`: single records and store sizes.
enum RecordCommands {
    static var get: Command {
        Command(
            name: "get", abstract: "Show the record stored under a key (exit 1 when there is none).",
            discussion: "--format json prints {\"key\", \"metadata\", \"dim\", \"vector\": [...]}; metadata is the stored object or null.",
            arguments: "NAME KEY", options: [Commands.formatOption], minPositionals: 2, maxPositionals: 2
        ) { (args, g) throws(CLIError) in
            let (collection, key) = (args.positionals[0], args.positionals[1])
            let client = try g.connect()
            defer { client.close() }
            let record: GetResponse?
            do throws(ClientError) { record = try client.get(collection, key: key) } catch { throw .runtime(error.description) }
            guard let record else { throw .runtime("no record with key \(JSON.string(key)) in collection \(collection)") }
            let values = record.vector?.values ?? []
            if args.value("--format") == "json" {
                Output.out(JSON.object([
                    ("key", JSON.string(record.key)), ("metadata", StoreRendering.metadataJSON(record.metadata)),
                    ("dim", String(values.count)), ("vector", "[" + values.map(JSON.number).joined(separator: ", ") + "]"),
                ]) + "\n")
            } else {
                let head = values.prefix(6).map(EmbedCommand.format4).joined(separator: " ")
                Output.out("""
                key:      \(record.key)
                metadata: \(record.metadata.isEmpty ? "(none)" : record.metadata)
                vector:   \(values.count) values: \(head)\(values.count > 6 ? " ..." : "")

                """)
            }
        }
    }

    static var delete: Command {
        Command(
            name: "delete", abstract: "Delete records by key (keys that do not exist are not an error).",
            discussion: "Prints how many of the keys existed; --format json prints {\"requested\": N, \"deleted\": M}.\nKeys go in calls of 1024 (the daemon's default limits.max_inputs_per_call); each call is\ndurable when it returns, so after an error the earlier calls' deletions stand.",
            arguments: "NAME KEY...", options: [Commands.formatOption], minPositionals: 2, maxPositionals: Int.max
        ) { (args, g) throws(CLIError) in
            let collection = args.positionals[0]
            let keys = Array(args.positionals.dropFirst())
            let client = try g.connect()
            defer { client.close() }
            // In calls of 1024 keys, the daemon's default limits.max_inputs_per_call.
            var deleted: UInt64 = 0
            for start in stride(from: 0, to: keys.count, by: 1024) {
                let chunk = Array(keys[start..<min(start + 1024, keys.count)])
                do throws(ClientError) { deleted += try client.delete(collection, keys: chunk) } catch { throw .runtime(error.description) }
            }
            if args.value("--format") == "json" {
                Output.out("{\"requested\": \(keys.count), \"deleted\": \(deleted)}\n")
            } else {
                Output.out("deleted \(deleted) of \(keys.count) key\(keys.count == 1 ? "" : "s") from \(collection)\n")
            }
        }
    }

    static var stats: Command {
        Command(
            name: "stats", abstract: "Show store sizes of one collection, or of every collection you may read.",
            discussion: "--format json prints a list of collections (as 'collection describe --format json'), each with \"stats\".",
            arguments: "[NAME]", options: [Commands.formatOption], minPositionals: 0, maxPositionals: 1
        ) { (args, g) throws(CLIError) in
            let r = try Commands.call(g, .stats, StatsRequest(collection: args.positionals.first ?? ""), StatsResponse.self)
            if args.value("--format") == "json" {
                Output.out(JSON.array(r.collections.map { StoreRendering.collectionJSON($0, indent: "  ") }) + "\n")
            } else {
                Output.out(StoreRendering.statsTable(r.collections))
            }
        }
    }
}
