import EmbedSys
import EmbedWire

/// `embedctl collection create|list|describe|optimize|drop`.
enum CollectionCommand {
    static var command: Command {
        Command(name: "collection", abstract: "Create, list, describe, optimize and drop vector collections.",
                subcommands: [create, list, describe, optimize, drop])
    }

    static var create: Command {
        Command(
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
            """,
            arguments: "NAME",
            options: [
                Commands.formatOption,
                OptionSpec(names: ["--model", "-m"], valueName: "MODEL", help: "bind to this model (dimension, metric and space come from it)"),
                OptionSpec(names: ["--dim"], valueName: "N", help: "raw collection of N-dimensional vectors"),
                OptionSpec(names: ["--metric"], valueName: "METRIC", help: "distance (raw: default cosine; with --model: must be the model's)",
                           choices: ["cosine", "l2", "ip"]),
                OptionSpec(names: ["--storage"], valueName: "TYPE", help: "stored vectors: f32 (default, exact), f16 (half the bytes) or int8 (a quarter; scores on the rounded vector)"),
                OptionSpec(names: ["--hnsw-m"], valueName: "N", help: "HNSW links per node (default 16)"),
                OptionSpec(names: ["--ef-construction"], valueName: "N", help: "HNSW build breadth (default 200)"),
                OptionSpec(names: ["--ef"], valueName: "N", help: "default search breadth (default 100)"),
                OptionSpec(names: ["--writer"], valueName: "USER", help: "user who may write", repeatable: true),
                OptionSpec(names: ["--writer-group"], valueName: "GROUP", help: "group whose members may write", repeatable: true),
                OptionSpec(names: ["--reader"], valueName: "USER", help: "user who may read (with --restrict-read)", repeatable: true),
                OptionSpec(names: ["--reader-group"], valueName: "GROUP", help: "group whose members may read (with --restrict-read)", repeatable: true),
                OptionSpec(names: ["--restrict-read"], valueName: nil, help: "only the owner, writers and readers may read"),
                OptionSpec(names: ["--exist-ok"], valueName: nil, help: "succeed if the collection exists with the same binding"),
            ],
            minPositionals: 1, maxPositionals: 1
        ) { (args, g) throws(CLIError) in
            var r = CreateCollectionRequest(name: args.positionals[0])
            let model = args.value("--model"), dim = args.value("--dim")
            switch (model, dim) {
            case (nil, nil): throw .usage("'embedctl collection create' needs --model MODEL or --dim N\nSee 'embedctl collection create --help'.")
            case (.some, .some): throw .usage("give either --model or --dim, not both (a model fixes the dimension)")
            case (let m?, nil):
                if m.isEmpty { throw .usage("--model needs a model name") }
                r.model = m
            case (nil, let d?): r.dimension = try number(d, "--dim", max: 65536)
            }
            r.metric = args.value("--metric") ?? ""
            r.storage = args.value("--storage") ?? ""
            if let v = args.value("--hnsw-m") { r.hnswM = try number(v, "--hnsw-m", max: 128) }
            if let v = args.value("--ef-construction") { r.hnswEfConstruction = try number(v, "--ef-construction", max: 100_000) }
            if let v = args.value("--ef") { r.hnswEf = try number(v, "--ef", max: 100_000) }
            var acl = CollectionAcl(restrictRead: args.has("--restrict-read"))
            acl.writerUids = try args.all("--writer").map { (u) throws(CLIError) in try uid(u) }
            acl.writerGids = try args.all("--writer-group").map { (gr) throws(CLIError) in try gid(gr) }
            acl.readerUids = try args.all("--reader").map { (u) throws(CLIError) in try uid(u) }
            acl.readerGids = try args.all("--reader-group").map { (gr) throws(CLIError) in try gid(gr) }
            r.acl = acl
            r.existOk = args.has("--exist-ok")
            let response = try Commands.call(g, .createCollection, r, CreateCollectionResponse.self)
            let c = response.collection ?? CollectionInfo()
            if args.value("--format") == "json" {
                Output.out(StoreRendering.collectionJSON(c, indent: "") + "\n")
            } else {
                let binding = c.model.isEmpty ? "raw vectors" : "model \(c.model)"
                Output.out("collection \(c.name): \(binding), dim \(c.dimension), metric \(c.metric)\n")
            }
        }
    }

    static var list: Command {
        Command(name: "list", abstract: "List collections with your access (r = read, w = write).", options: [Commands.formatOption]) {
            (args, g) throws(CLIError) in
            let r = try Commands.call(g, .listCollections, ListCollectionsRequest(), ListCollectionsResponse.self)
            if args.value("--format") == "json" {
                Output.out(JSON.array(r.collections.map { StoreRendering.collectionJSON($0, indent: "  ") }) + "\n")
            } else {
                Output.out(StoreRendering.collectionsTable(r.collections))
            }
        }
    }

    static var describe: Command {
        Command(name: "describe", abstract: "Show a collection's binding, access and storage.", arguments: "NAME",
                options: [Commands.formatOption], minPositionals: 1, maxPositionals: 1) { (args, g) throws(CLIError) in
            let r = try Commands.call(g, .describeCollection, DescribeCollectionRequest(name: args.positionals[0]),
                                      DescribeCollectionResponse.self)
            let c = r.collection ?? CollectionInfo()
            if args.value("--format") == "json" {
                Output.out(StoreRendering.collectionJSON(c, indent: "") + "\n")
            } else {
                Output.out(StoreRendering.describeText(c))
            }
        }
    }

    static var optimize: Command {
        Command(
            name: "optimize", abstract: "Compact a collection in graph order (needs write permission).",
            discussion: """
            Waits until every record added so far is linked into the search graph, then rewrites the
            collection: deleted and replaced records are dropped and records renumbered so that graph
            neighbours lie close together in memory (searches run faster after a bulk load). Adds wait
            while the copy is written; searches do not. The daemon also compacts on its own once many
            records are deleted (store.compaction_* in embedd.yaml). Use --timeout for big collections.
            """,
            arguments: "NAME", options: [Commands.formatOption], minPositionals: 1, maxPositionals: 1) { (args, g) throws(CLIError) in
            let name = args.positionals[0]
            let before = try Commands.call(g, .describeCollection, DescribeCollectionRequest(name: name), DescribeCollectionResponse.self)
                .collection?.stats ?? CollectionStats()
            let started = Clock.monotonicSeconds()
            let r = try Commands.call(g, .optimizeCollection, OptimizeCollectionRequest(name: name), OptimizeCollectionResponse.self)
            let seconds = Clock.monotonicSeconds() - started
            let c = r.collection ?? CollectionInfo()
            let after = c.stats ?? CollectionStats()
            if args.value("--format") == "json" {
                Output.out("{\"optimized\": \(JSON.string(name)), \"seconds\": \(JSON.number(Float(seconds))), \"deleted_reclaimed\": \(before.deleted), "
                           + "\"collection\": \(StoreRendering.collectionJSON(c, indent: ""))}\n")
            } else {
                Output.out("optimized collection \(name) in \(EmbedCommand.format4(Float(seconds))) s: \(c.count) records, "
                           + "\(before.deleted) deleted slots reclaimed, memory \(StoreRendering.bytes(before.memoryBytes)) -> "
                           + "\(StoreRendering.bytes(after.memoryBytes)), snapshot \(StoreRendering.bytes(after.snapshotBytes))\n")
            }
        }
    }

    static var drop: Command {
        Command(name: "drop", abstract: "Delete a collection and its files (needs write permission).", arguments: "NAME",
                options: [Commands.formatOption], minPositionals: 1, maxPositionals: 1) { (args, g) throws(CLIError) in
            _ = try Commands.call(g, .dropCollection, DropCollectionRequest(name: args.positionals[0]), DropCollectionResponse.self)
            if args.value("--format") == "json" {
                Output.out("{\"dropped\": \(JSON.string(args.positionals[0]))}\n")
            } else {
                Output.out("dropped collection \(args.positionals[0])\n")
            }
        }
    }

    /// A positive integer option value ≤ max.
    static func number(_ text: String, _ option: String, max: UInt32) throws(CLIError) -> UInt32 {
        guard let v = UInt32(text), v >= 1, v <= max else { throw .usage("\(option) needs an integer from 1 to \(max) (got \"\(text)\")") }
        return v
    }

    static func uid(_ s: String) throws(CLIError) -> UInt32 {
        if let v = UInt32(s) { return v }
        guard let v = UserNames.userID(named: s) else { throw .usage("no user named '\(s)'") }
        return v
    }

    static func gid(_ s: String) throws(CLIError) -> UInt32 {
        if let v = UInt32(s) { return v }
        guard let v = UserDatabase.groupID(named: s) else { throw .usage("no group named '\(s)'") }
        return v
    }
}
