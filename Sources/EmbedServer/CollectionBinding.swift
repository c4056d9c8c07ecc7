import EmbedSys
import EmbedWire

/// What the daemon adds to a store collection: the model it is bound to, that model's
/// embedding space at creation, and who may use it (the ACL). Kept in a small text file,
/// `embedd.binding`, inside the collection's directory, so dropping the collection removes it
/// too. Written atomically (temporary file, fsync, rename, fsync of the directory).
///
/// Format (UTF-8 lines, `key value`; lists comma-separated):
///
///     embedd-binding 1
///     model all-MiniLM-L6-v2
///     space sentence-transformers@fnv64:dc3a7a2924dbd9b0
///     owner 1000
///     created_ms 1764000000000
///     restrict_read 0
///     reader_uids 1001,1002
///     reader_gids
///     writer_uids
///     writer_gids 100
///     documents 1
///     add_prompt passage
///     query_prompt query
///
/// `documents` (0 or 1; absent = 1, as in files written before it existed): whether the
/// daemon records a document for each embedded item (`RecordDocuments`).
///
/// `add_prompt` and `query_prompt` (the model prompts Upsert and Search apply to text when a
/// call names none) are written only when set; files without them read as unset.
struct CollectionBinding: Sendable, Equatable {
    static let fileName = "embedd.binding"

    /// The bound model's name; empty for a raw collection.
    var model: String = ""
    /// The model's embedding space at creation; empty for a raw collection.
    var space: String = ""
    var ownerUID: UInt32 = 0
    var createdUnixMilliseconds: UInt64 = 0
    var restrictRead = false
    var readerUIDs: [UInt32] = []
    var readerGIDs: [UInt32] = []
    var writerUIDs: [UInt32] = []
    var writerGIDs: [UInt32] = []
    /// Record documents for embedded items (not `CreateCollectionRequest.no_documents`).
    var documents = true
    /// The model prompt Upsert applies to text items that name none ("" = the model's default).
    var addPrompt = ""
    /// The model prompt Search applies to text queries that name none ("" = the model's default).
    var queryPrompt = ""

    var isRaw: Bool { model.isEmpty }

    var acl: CollectionAcl {
        CollectionAcl(ownerUid: ownerUID, readerUids: readerUIDs, readerGids: readerGIDs, writerUids: writerUIDs,
                      writerGids: writerGIDs, restrictRead: restrictRead)
    }

    /// Read permission: the owner, uid 0 and admins, writers, listed readers; everyone unless
    /// `restrictRead`.
    func canRead(_ ctx: CallContext) -> Bool {
        !restrictRead || canWrite(ctx) || readerUIDs.contains(ctx.peer.uid) || readerGIDs.contains { CollectionBinding.inGroup(ctx, $0) }
    }

    /// Write permission: the owner, uid 0 and admins, listed writers.
    func canWrite(_ ctx: CallContext) -> Bool {
        ctx.isAdmin || ctx.peer.uid == ownerUID || writerUIDs.contains(ctx.peer.uid)
            || writerGIDs.contains { CollectionBinding.inGroup(ctx, $0) }
    }

    private static func inGroup(_ ctx: CallContext, _ gid: UInt32) -> Bool { ctx.holdsGroup(gid) }

    // MARK: File

    func encoded() -> [UInt8] {
        func list(_ v: [UInt32]) -> String { v.map(String.init).joined(separator: ",") }
        let text = """
        embedd-binding 1
        model \(model)
        space \(space)
        owner \(ownerUID)
        created_ms \(createdUnixMilliseconds)
        restrict_read \(restrictRead ? 1 : 0)
        reader_uids \(list(readerUIDs))
        reader_gids \(list(readerGIDs))
        writer_uids \(list(writerUIDs))
        writer_gids \(list(writerGIDs))
        documents \(documents ? 1 : 0)

        """
        var prompts = ""
        if !addPrompt.isEmpty { prompts += "add_prompt \(addPrompt)\n" }
        if !queryPrompt.isEmpty { prompts += "query_prompt \(queryPrompt)\n" }
        return Array((text + prompts).utf8)
    }

    /// Parses the file's bytes; `path` names it in errors.
    static func decode(_ bytes: [UInt8], path: String) throws(RPCError) -> CollectionBinding {
        func bad(_ why: String) -> RPCError { RPCError(.dataLoss, "\(path) is damaged (\(why)); fix or remove it (a missing file makes the collection admin-only)") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw bad("not UTF-8") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.first == "embedd-binding 1" else { throw bad("unknown header") }
        var b = CollectionBinding()
        var seen = Set<String>()
        for line in lines.dropFirst() {
            let key: String, value: String
            if let sp = line.firstIndex(of: " ") {
                key = String(line[..<sp]); value = String(line[line.index(after: sp)...])
            } else {
                key = line; value = ""
            }
            seen.insert(key)
            func number<T: FixedWidthInteger>(_ s: String) throws(RPCError) -> T {
                guard let v = T(s) else { throw bad("\(key) is not a number") }
                return v
            }
            func list(_ s: String) throws(RPCError) -> [UInt32] {
                if s.isEmpty { return [] }
                var out: [UInt32] = []
                for part in s.split(separator: ",", omittingEmptySubsequences: false) { out.append(try number(String(part))) }
                return out
            }
            switch key {
            case "model": b.model = value
            case "space": b.space = value
            case "owner": b.ownerUID = try number(value)
            case "created_ms": b.createdUnixMilliseconds = try number(value)
            case "restrict_read":
                // Anything but 0 or 1 is damage, not "unrestricted": an edit to `2` once read as
                // false and opened the collection to everyone.
                guard value == "0" || value == "1" else { throw bad("restrict_read is '\(value.prefix(20))', not 0 or 1") }
                b.restrictRead = value == "1"
            case "reader_uids": b.readerUIDs = try list(value)
            case "reader_gids": b.readerGIDs = try list(value)
            case "writer_uids": b.writerUIDs = try list(value)
            case "writer_gids": b.writerGIDs = try list(value)
            case "documents":
                guard value == "0" || value == "1" else { throw bad("documents is '\(value.prefix(20))', not 0 or 1") }
                b.documents = value == "1"
            case "add_prompt": b.addPrompt = value
            case "query_prompt": b.queryPrompt = value
            default: break  // newer keys are ignored
            }
        }
        for k in ["model", "space", "owner", "restrict_read"] where !seen.contains(k) { throw bad("no \(k) line") }
        return b
    }

    /// Writes the file atomically into `directory`.
    func save(in directory: String) throws(Errno) {
        let final = directory + "/" + CollectionBinding.fileName
        try FileSystem.replaceFile(final, with: encoded(), temporary: final + ".tmp", directory: directory)
    }

    /// What a collection without a binding file gets: admin-only (owner uid 0, reads
    /// restricted, no grants), keeping the store's space so vectors stay usable by admins.
    /// Fail closed: a removed file must never widen access.
    static func adminOnly(space: String) -> CollectionBinding {
        CollectionBinding(model: "", space: space, ownerUID: 0, restrictRead: true)
    }

    /// Reads the file in `directory`; nil when there is none.
    static func load(from directory: String) throws(RPCError) -> CollectionBinding? {
        let path = directory + "/" + fileName
        guard FileSystem.exists(path) else { return nil }
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path, limit: 1 << 20) } catch {
            throw RPCError(.internal, "cannot read \(path): \(error)")
        }
        return try decode(bytes, path: path)
    }
}
