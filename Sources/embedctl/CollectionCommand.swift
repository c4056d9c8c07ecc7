import EmbedCLI
import EmbedSys
import EmbedWire

/// `embedctl collection create|list|describe|optimize|drop|mirror`.
enum CollectionCommand {
    static var command: Command {
        Command(name: "collection", abstract: "Create, list, describe, optimize and drop vector collections.", options: ConnectionOptions.self,
                subcommands: [Command(Create.self), Command(List.self), Command(Describe.self), Command(Optimize.self), Command(Drop.self),
                              Command(MirrorCommand.self)])
    }

    enum Metric: String, CaseIterable {
        case cosine, l2, ip
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "create", abstract: "Create a collection bound to a model or to a raw dimension.",
            discussion: """
            With --model, the collection takes the model's dimension, metric and embedding space: texts
            and files added to it are embedded by that model, and vectors from any other space are refused.
            With --dim, it stores vectors you bring (add --vector-json, --jsonl "vector", --npy).

            Access: the creator (owner), root and the daemon's admin group may always read, write and drop.
            --writer/--writer-group grant writing (add, delete, drop; writers may also read); anyone who
            can open the socket may read, unless --restrict-read limits reading to the owner, writers and
            --reader/--reader-group. The access list is fixed at creation.
            Users and groups are names or numeric ids.

            --add-prompt and --query-prompt name prompts of the model (PROMPTS in 'embedctl models', from
            its config_sentence_transformers.json): texts added get the first prepended, text queries the
            second (e5: --add-prompt passage --query-prompt query), unless a call names its own with
            --prompt. Unset, the model's default prompt applies; 'none' applies none.
            """)
        var output = FormatOptions()
        var name = ""
        var model: String?
        var dim: UInt32?
        var metric: Metric?
        var storage: String?
        var hnswM: UInt32?
        var efConstruction: UInt32?
        var ef: UInt32?
        var writers: [UInt32] = []
        var writerGroups: [UInt32] = []
        var readers: [UInt32] = []
        var readerGroups: [UInt32] = []
        var restrictRead = false
        var existOK = false
        var noDocuments = false
        var addPrompt: String?
        var queryPrompt: String?
        var connection = ConnectionOptions()

        static var arguments: [Argument<Self>] {
            [
                .group(\.output),
                .argument("NAME", \.name, .string),
                .option("--model", "-m", value: "MODEL", help: "bind to this model (dimension, metric and space come from it)", \.model, .model),
                .option("--dim", value: "N", help: "raw collection of N-dimensional vectors", \.dim, .integer(max: 65536)),
                .option("--metric", value: "METRIC", help: "distance (raw: default cosine; with --model: must be the model's)", \.metric, .choice),
                .option("--storage", value: "TYPE",
                        help: "stored vectors: f32 (default, exact), f16 (half the bytes) or int8 (a quarter; scores on the rounded vector)",
                        \.storage, .string.completing(.words(["f32", "f16", "int8"]))),
                .option("--hnsw-m", value: "N", help: "HNSW links per node (default 16)", \.hnswM, .integer(max: 128)),
                .option("--ef-construction", value: "N", help: "HNSW build breadth (default 200)", \.efConstruction, .integer(max: 100_000)),
                .option("--ef", value: "N", help: "default search breadth (default 100)", \.ef, .integer(max: 100_000)),
                .repeated("--writer", value: "USER", help: "user who may write", \.writers, .user),
                .repeated("--writer-group", value: "GROUP", help: "group whose members may write", \.writerGroups, .group),
                .repeated("--reader", value: "USER", help: "user who may read (with --restrict-read)", \.readers, .user),
                .repeated("--reader-group", value: "GROUP", help: "group whose members may read (with --restrict-read)", \.readerGroups, .group),
                .flag("--restrict-read", help: "only the owner, writers and readers may read", \.restrictRead),
                .flag("--exist-ok", help: "succeed if the collection exists with the same binding", \.existOK),
                .flag("--no-documents", help: "do not record what each vector was made from (text, file name and type)", \.noDocuments),
                .option("--add-prompt", value: "NAME", help: "model prompt for texts added, e.g. passage", \.addPrompt, .prompt),
                .option("--query-prompt", value: "NAME", help: "model prompt for text queries, e.g. query", \.queryPrompt, .prompt),
                .group(\.connection),
            ]
        }

        func validate() throws(CLIError) {
            switch (model, dim) {
            case (nil, nil): throw .usage("'embedctl collection create' needs --model MODEL or --dim N\nSee 'embedctl collection create --help'.")
            case (.some, .some): throw .usage("give either --model or --dim, not both (a model fixes the dimension)")
            case (let m?, nil): if m.isEmpty { throw .usage("--model needs a model name") }
            case (nil, .some):
                if addPrompt != nil || queryPrompt != nil {
                    throw .usage("--add-prompt and --query-prompt name prompts of a model: give --model (a --dim collection has none)")
                }
            }
        }

        func run() throws(CLIError) {
            var r = CreateCollectionRequest(name: name)
            r.model = model ?? ""
            if let dim { r.dimension = dim }
            r.metric = metric?.rawValue ?? ""
            r.storage = storage ?? ""
            if let hnswM { r.hnswM = hnswM }
            if let efConstruction { r.hnswEfConstruction = efConstruction }
            if let ef { r.hnswEf = ef }
            var acl = CollectionAcl(restrictRead: restrictRead)
            acl.writerUids = writers
            acl.writerGids = writerGroups
            acl.readerUids = readers
            acl.readerGids = readerGroups
            r.acl = acl
            r.existOk = existOK
            r.noDocuments = noDocuments
            r.addPrompt = addPrompt ?? ""
            r.queryPrompt = queryPrompt ?? ""
            let response = try connection.call(.createCollection, r, CreateCollectionResponse.self)
            let c = response.collection ?? CollectionInfo()
            if output.json {
                Output.out(StoreRendering.collectionJSON(c, indent: "") + "\n")
            } else {
                let binding = c.model.isEmpty ? "raw vectors" : "model \(c.model)"
                Output.out("collection \(c.name): \(binding), dim \(c.dimension), metric \(c.metric)\n")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(name: "list", abstract: "List collections with your access (r = read, w = write).")
        var output = FormatOptions()
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] { [.group(\.output), .group(\.connection)] }

        func run() throws(CLIError) {
            let r = try connection.call(.listCollections, ListCollectionsRequest(), ListCollectionsResponse.self)
            if output.json {
                Output.out(JSON.array(r.collections.map { StoreRendering.collectionJSON($0, indent: "  ") }) + "\n")
            } else {
                Output.out(StoreRendering.collectionsTable(r.collections))
            }
        }
    }

    struct Describe: ParsableCommand {
        static let configuration = CommandConfiguration(name: "describe", abstract: "Show a collection's binding, access and storage.")
        var output = FormatOptions()
        var name = ""
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] { [.group(\.output), .argument("NAME", \.name, .collection), .group(\.connection)] }

        func run() throws(CLIError) {
            let r = try connection.call(.describeCollection, DescribeCollectionRequest(name: name), DescribeCollectionResponse.self)
            let c = r.collection ?? CollectionInfo()
            if output.json {
                Output.out(StoreRendering.collectionJSON(c, indent: "") + "\n")
            } else {
                Output.out(StoreRendering.describeText(c))
            }
        }
    }

    struct Optimize: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "optimize", abstract: "Compact a collection in graph order (needs write permission).",
            discussion: """
            Waits until every record added so far is linked into the search graph, then rewrites the
            collection: deleted and replaced records are dropped and records renumbered so that graph
            neighbours lie close together in memory (searches run faster after a bulk load). Adds wait
            while the copy is written; searches do not. The daemon also compacts on its own once many
            records are deleted (store.compaction_* in embedd.yaml). Use --timeout for big collections.
            """)
        var output = FormatOptions()
        var name = ""
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] { [.group(\.output), .argument("NAME", \.name, .collection), .group(\.connection)] }

        func run() throws(CLIError) {
            let before = try connection.call(.describeCollection, DescribeCollectionRequest(name: name), DescribeCollectionResponse.self)
                .collection?.stats ?? CollectionStats()
            let started = Clock.monotonicSeconds()
            let r = try connection.call(.optimizeCollection, OptimizeCollectionRequest(name: name), OptimizeCollectionResponse.self)
            let seconds = Clock.monotonicSeconds() - started
            let c = r.collection ?? CollectionInfo()
            let after = c.stats ?? CollectionStats()
            if output.json {
                Output.out("{\"optimized\": \(JSON.string(name)), \"seconds\": \(JSON.number(Float(seconds))), \"deleted_reclaimed\": \(before.deleted), "
                           + "\"collection\": \(StoreRendering.collectionJSON(c, indent: ""))}\n")
            } else {
                Output.out("optimized collection \(name) in \(EmbedCommand.format4(Float(seconds))) s: \(c.count) records, "
                           + "\(before.deleted) deleted slots reclaimed, memory \(StoreRendering.bytes(before.memoryBytes)) -> "
                           + "\(StoreRendering.bytes(after.memoryBytes)), snapshot \(StoreRendering.bytes(after.snapshotBytes))\n")
            }
        }
    }

    struct Drop: ParsableCommand {
        static let configuration = CommandConfiguration(name: "drop", abstract: "Delete a collection and its files (needs write permission).")
        var output = FormatOptions()
        var name = ""
        var connection = ConnectionOptions()
        static var arguments: [Argument<Self>] { [.group(\.output), .argument("NAME", \.name, .collection), .group(\.connection)] }

        func run() throws(CLIError) {
            _ = try connection.call(.dropCollection, DropCollectionRequest(name: name), DropCollectionResponse.self)
            if output.json {
                Output.out("{\"dropped\": \(JSON.string(name))}\n")
            } else {
                Output.out("dropped collection \(name)\n")
            }
        }
    }
}

extension ValueParser where Value == UInt32 {
    /// A user name or numeric id (`--writer`, `--reader`).
    static var user: ValueParser {
        ValueParser(completion: .user) { (s, _) throws(CLIError) in
            if let v = UInt32(s) { return v }
            guard let v = UserNames.userID(named: s) else { throw .usage("no user named '\(s)'") }
            return v
        }
    }

    /// A group name or numeric id (`--writer-group`, `--reader-group`).
    static var group: ValueParser {
        ValueParser(completion: .group) { (s, _) throws(CLIError) in
            if let v = UInt32(s) { return v }
            guard let v = UserDatabase.groupID(named: s) else { throw .usage("no group named '\(s)'") }
            return v
        }
    }
}
