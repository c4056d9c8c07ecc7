import EmbedSys
import EmbedWire

/// JSON and table renderings of collections, stats and records (stable JSON keys: scripts
/// rely on them; docs/operations.md lists them).
enum StoreRendering {
    static func aclJSON(_ a: CollectionAcl, indent: String) -> String {
        func ids(_ v: [UInt32]) -> String { "[" + v.map(String.init).joined(separator: ", ") + "]" }
        return JSON.object([
            ("owner_uid", String(a.ownerUid)), ("reader_uids", ids(a.readerUids)), ("reader_gids", ids(a.readerGids)),
            ("writer_uids", ids(a.writerUids)), ("writer_gids", ids(a.writerGids)),
            ("restrict_read", a.restrictRead ? "true" : "false"),
        ], indent: indent)
    }

    static func statsJSON(_ s: CollectionStats, indent: String) -> String {
        JSON.object([
            ("count", String(s.count)), ("deleted", String(s.deleted)), ("unindexed", String(s.unindexed)),
            ("nodes", String(s.nodes)), ("max_level", String(s.maxLevel)), ("wal_bytes", String(s.walBytes)),
            ("snapshot_bytes", String(s.snapshotBytes)), ("memory_bytes", String(s.memoryBytes)),
            ("last_sequence", String(s.lastSequence)), ("checkpoint_sequence", String(s.checkpointSequence)),
        ], indent: indent)
    }

    static func collectionJSON(_ c: CollectionInfo, indent: String) -> String {
        var pairs: [(String, String)] = [
            ("name", JSON.string(c.name)), ("model", c.model.isEmpty ? "null" : JSON.string(c.model)),
            ("embedding_space", c.embeddingSpace.isEmpty ? "null" : JSON.string(c.embeddingSpace)),
            ("dim", String(c.dimension)), ("metric", JSON.string(c.metric)), ("storage", JSON.string(c.storage)),
            ("count", String(c.count)), ("created_unix_ms", String(c.createdUnixMs)),
            ("hnsw", JSON.object([("m", String(c.hnswM)), ("ef_construction", String(c.hnswEfConstruction)), ("ef", String(c.hnswEf))],
                                 indent: indent + "  ")),
            ("acl", aclJSON(c.acl ?? CollectionAcl(), indent: indent + "  ")),
            ("can_read", c.canRead ? "true" : "false"), ("can_write", c.canWrite ? "true" : "false"),
            ("documents", c.documents ? "true" : "false"),
            ("error", JSON.string(c.error)),
            ("add_prompt", c.addPrompt.isEmpty ? "null" : JSON.string(c.addPrompt)),
            ("query_prompt", c.queryPrompt.isEmpty ? "null" : JSON.string(c.queryPrompt)),
        ]
        if let s = c.stats { pairs.append(("stats", statsJSON(s, indent: indent + "  "))) }
        pairs += MirrorRendering.jsonPairs(c, indent: indent)
        return JSON.object(pairs, indent: indent)
    }

    /// `rw`, `r-`, `--`: what the caller may do.
    static func access(_ c: CollectionInfo) -> String { (c.canRead ? "r" : "-") + (c.canWrite ? "w" : "-") }

    static func collectionsTable(_ list: [CollectionInfo]) -> String {
        if list.isEmpty { return "no collections\n" }
        return Table.render(["NAME", "MODEL", "DIM", "METRIC", "COUNT", "ACCESS", "DETAIL"], list.map { c in
            [c.name, c.model.isEmpty ? "(raw vectors)" : c.model, String(c.dimension), c.metric, String(c.count), access(c), c.error]
        })
    }

    static func describeText(_ c: CollectionInfo) -> String {
        var lines: [(String, String)] = [
            ("name", c.name),
            ("model", c.model.isEmpty ? "(none: raw vectors)" : c.model),
            ("space", c.embeddingSpace.isEmpty ? "-" : c.embeddingSpace),
            ("dimension", String(c.dimension)),
            ("metric", c.metric),
            ("storage", c.storage),
            ("count", String(c.count)),
            ("hnsw", "m \(c.hnswM), ef_construction \(c.hnswEfConstruction), ef \(c.hnswEf)"),
            ("created", c.createdUnixMs == 0 ? "-" : utc(milliseconds: c.createdUnixMs)),
            ("owner", user(c.acl?.ownerUid ?? 0)),
            ("readers", readers(c.acl ?? CollectionAcl())),
            ("writers", writers(c.acl ?? CollectionAcl())),
            ("your access", access(c)),
            ("documents", c.documents ? "recorded (source text, file name and type)" : "not recorded (--no-documents)"),
        ]
        if !c.addPrompt.isEmpty || !c.queryPrompt.isEmpty {
            // The model prompts add and search apply (collection create --add-prompt/--query-prompt).
            func name(_ p: String) -> String { p.isEmpty ? "(the model's default)" : p }
            lines.append(("prompts", "add \(name(c.addPrompt)), search \(name(c.queryPrompt))"))
        }
        if !c.error.isEmpty { lines.append(("error", c.error)) }
        if let s = c.stats {
            lines += [
                ("deleted", String(s.deleted)), ("unindexed", String(s.unindexed)), ("graph", "\(s.nodes) nodes, top level \(s.maxLevel)"),
                ("wal", bytes(s.walBytes)), ("snapshot", bytes(s.snapshotBytes)), ("memory", bytes(s.memoryBytes)),
                ("sequence", "\(s.lastSequence) (checkpoint \(s.checkpointSequence))"),
            ]
        }
        lines += MirrorRendering.describeLines(c)
        let w = lines.map(\.0.count).max() ?? 0
        return lines.map { "\(($0.0 + ":").padding(w + 1)) \($0.1)" }.joined(separator: "\n") + "\n"
    }

    static func statsTable(_ list: [CollectionInfo]) -> String {
        if list.isEmpty { return "no collections\n" }
        return Table.render(["NAME", "COUNT", "DELETED", "UNINDEXED", "NODES", "LEVEL", "WAL", "SNAPSHOT", "MEMORY", "SEQUENCE"], list.map { c in
            let s = c.stats ?? CollectionStats()
            return [c.name, String(s.count), String(s.deleted), String(s.unindexed), String(s.nodes), String(s.maxLevel),
                    bytes(s.walBytes), bytes(s.snapshotBytes), bytes(s.memoryBytes), String(s.lastSequence)]
        })
    }

    static func user(_ uid: UInt32) -> String { UserDatabase.user(id: uid).map { "\($0.name) (\(uid))" } ?? "uid \(uid)" }
    static func group(_ gid: UInt32) -> String { UserNames.groupName(id: gid).map { "group \($0) (\(gid))" } ?? "gid \(gid)" }

    static func readers(_ a: CollectionAcl) -> String {
        let listed = a.readerUids.map(user) + a.readerGids.map(group)
        if !a.restrictRead { return "anyone who can connect" + (listed.isEmpty ? "" : " (listed: \(listed.joined(separator: ", ")))") }
        return (["owner", "writers"] + listed).joined(separator: ", ")
    }

    static func writers(_ a: CollectionAcl) -> String {
        (["owner"] + a.writerUids.map(user) + a.writerGids.map(group)).joined(separator: ", ")
    }

    /// "2026-11-26 17:50:01 UTC" (days to civil date after Howard Hinnant; no Foundation).
    static func utc(milliseconds: UInt64) -> String {
        let seconds = Int64(milliseconds / 1000)
        let days = seconds / 86400, rest = seconds % 86400
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60)) UTC"
    }

    /// 1536 → "1.5 KiB".
    static func bytes(_ n: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        if u == 0 { return "\(n) B" }
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[u])"
    }

    /// Metadata (or a document) as JSON for output: the stored object as is, or null when none.
    static func metadataJSON(_ m: String) -> String { m.isEmpty ? "null" : m }

    /// A document in one table cell: its text (the start of it), else its file name, else its
    /// media type.
    static func documentSummary(_ document: String) -> String {
        guard !document.isEmpty else { return "" }
        guard let node = try? JSONNode.parse(Array(document.utf8)) else { return AddCommand.display(document) }
        for field in ["text", "name", "mime_type"] {
            if case .string(let s)? = node[field]?.kind { return AddCommand.display(s.replacing("\t", with: " ")) }
        }
        return AddCommand.display(document)
    }
}
