import EmbedCLI
import EmbedClient
import EmbedWire

/// `embedctl get`, `embedctl delete` and `embedctl stats`: single records and store sizes.
enum RecordCommands {
    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "get", abstract: "Show the record stored under a key (exit 1 when there is none).",
            discussion: "--format json prints {\"key\", \"metadata\", \"document\", \"dim\", \"vector\": [...]}; metadata and document are the\nstored objects or null. The document is what the vector was made from: {\"text\": ...} for a text,\n{\"name\", \"mime_type\", \"bytes\"} for a file (see 'embedctl collection create --no-documents').")
        var output = FormatOptions()
        var collection = ""
        var key = ""
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] {
            [.group(\.output), .argument("NAME", \.collection, .collection), .argument("KEY", \.key, .string), .group(\.connection)]
        }

        func run() throws(CLIError) {
            let client = try connection.connect()
            defer { client.close() }
            let record: GetResponse?
            do throws(ClientError) { record = try client.get(collection, key: key) } catch { throw .runtime(error.description) }
            guard let record else { throw .runtime("no record with key \(JSON.string(key)) in collection \(collection)") }
            let values = record.vector?.values ?? []
            if output.json {
                Output.out(JSON.object([
                    ("key", JSON.string(record.key)), ("metadata", StoreRendering.metadataJSON(record.metadata)),
                    ("document", StoreRendering.metadataJSON(record.document)),
                    ("dim", String(values.count)), ("vector", "[" + values.map(JSON.number).joined(separator: ", ") + "]"),
                ]) + "\n")
            } else {
                let head = values.prefix(6).map(EmbedCommand.format4).joined(separator: " ")
                Output.out("""
                key:      \(record.key)
                metadata: \(record.metadata.isEmpty ? "(none)" : record.metadata)
                document: \(record.document.isEmpty ? "(none)" : record.document)
                vector:   \(values.count) values: \(head)\(values.count > 6 ? " ..." : "")

                """)
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "delete", abstract: "Delete records by key (keys that do not exist are not an error).",
            discussion: "Prints how many of the keys existed; --format json prints {\"requested\": N, \"deleted\": M, \"segments\": S}.\nA recording stored with --segments loses its KEY#t=… records with it (S counts them).\nKeys go in calls of the daemon's limits.max_inputs_per_call (1024 by default); each call is\ndurable when it returns, so after an error the earlier calls' deletions stand.")
        var output = FormatOptions()
        var collection = ""
        var keys: [String] = []
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] {
            [.group(\.output), .argument("NAME", \.collection, .collection), .arguments("KEY", atLeastOne: true, \.keys, .string), .group(\.connection)]
        }

        func run() throws(CLIError) {
            let client = try connection.connect()
            defer { client.close() }
            // In calls of the daemon's limits.max_inputs_per_call keys (from its HELLO reply).
            var limits = CallPipeline.Limits(maxItems: CallPipeline.Limits.defaultMaxItems)
            limits.fit(client.serverHello)
            let per = limits.maxItems
            var deleted: UInt64 = 0
            var segments: UInt64 = 0
            for start in stride(from: 0, to: keys.count, by: per) {
                let chunk = Array(keys[start..<min(start + per, keys.count)])
                do throws(ClientError) {
                    let r = try client.deleteKeys(collection, keys: chunk)
                    deleted += r.deleted
                    segments += r.segments
                } catch { throw .runtime(error.description) }
            }
            if output.json {
                Output.out("{\"requested\": \(keys.count), \"deleted\": \(deleted), \"segments\": \(segments)}\n")
            } else {
                let withSegments = segments == 0 ? "" : " (and \(segments) segment record\(segments == 1 ? "" : "s") of them)"
                Output.out("deleted \(deleted) of \(keys.count) key\(keys.count == 1 ? "" : "s") from \(collection)\(withSegments)\n")
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "stats", abstract: "Show store sizes of one collection, or of every collection you may read.",
            discussion: "--format json prints a list of collections (as 'collection describe --format json'), each with \"stats\".")
        var output = FormatOptions()
        var collection: String?
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] { [.group(\.output), .optionalArgument("NAME", \.collection, .collection), .group(\.connection)] }

        func run() throws(CLIError) {
            let r = try connection.call(.stats, StatsRequest(collection: collection ?? ""), StatsResponse.self)
            if output.json {
                Output.out(JSON.array(r.collections.map { StoreRendering.collectionJSON($0, indent: "  ") }) + "\n")
            } else {
                Output.out(StoreRendering.statsTable(r.collections))
            }
        }
    }
}
