import EmbedCLI

/// One record that `embedctl add` stores: a key, what to embed (or the vector itself), and
/// optional metadata, plus where it came from for error messages.
struct AddItem {
    enum Content {
        /// Text embedded by the collection's model.
        case text(String)
        /// A file embedctl reads (or hands over as an open descriptor) when its batch is sent;
        /// the daemon never opens a path a client names.
        case file(path: String)
        /// A vector stored as is (collections with a raw dimension, or a matching model's space).
        case vector([Float])
    }

    var key: String
    var content: Content
    /// One JSON object, sent exactly as written.
    var metadata: String?
    /// "argument 2", "items.jsonl:12", "vectors.npy row 5": names the item in messages.
    var origin: String
    /// A document to store as given (a JSON object, from a `--jsonl` line), instead of the one
    /// the daemon records; nil lets the daemon record it.
    var document: String? = nil

    /// The store's longest key, in UTF-8 bytes (docs/storage.md).
    static let maxKeyBytes = 1024

    /// The default key of a text: the text itself, so search results show it; a text longer
    /// than the store's key limit is keyed `sha256:` + the hex digest of its UTF-8 bytes. Both are
    /// stable, so re-running an add (`--skip-existing`) finds the same keys.
    static func key(forText text: String) -> String {
        if !text.isEmpty && text.utf8.count <= maxKeyBytes { return text }
        return "sha256:" + SHA256.hex(Array(text.utf8))
    }

    /// Checks a key given by the user (`--key`, a `"key"` in JSONL).
    static func validate(key: String, origin: String) throws(CLIError) {
        if key.isEmpty { throw .usage("\(origin): the key is empty") }
        if key.utf8.count > maxKeyBytes { throw .usage("\(origin): the key is \(key.utf8.count) bytes long (at most \(maxKeyBytes))") }
    }

    /// Checks that metadata is one JSON object and returns it unchanged.
    static func validate(metadata: String, origin: String) throws(CLIError) -> String {
        let node = try JSONNode.parse(metadata, what: "\(origin): metadata")
        guard case .object(_) = node.kind else { throw .usage("\(origin): metadata must be a JSON object, got \(node.typeName)") }
        return metadata
    }
}
