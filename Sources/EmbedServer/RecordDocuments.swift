import EmbedJSON
import EmbedPluginHost
import EmbedStore
import EmbedWire

/// The document the daemon records beside an embedded item (issue 26): what the vector was
/// made from, as a JSON object, returned by Get, Search and Scan as `document`.
///
/// | input | document |
/// |---|---|
/// | text | `{"text": "…"}` |
/// | a passed text file | `{"name": "notes.txt", "mime_type": "text/plain", "text": "…"}` |
/// | a passed media file | `{"name": "cat.jpg", "mime_type": "image/jpeg", "bytes": 48213}` |
/// | media bytes | `{"mime_type": "image/png", "bytes": 1234}` |
/// | decoded pixels or samples, a vector | none |
///
/// `UpsertItem.document` (a JSON object, checked by `problem(explicit:)`) is stored as given
/// instead, with inputs and with vectors. A text longer than
/// `VectorCollection.maxDocumentBytes` keeps its first bytes (cut at a character boundary) and
/// `"truncated": true`: the vector is stored either way, and a model reads far less text than
/// that. A collection created with `no_documents` records only explicit documents.
enum RecordDocuments {
    /// The longest file name kept (`FileRef.name`).
    static let maxNameBytes = 4096

    /// The document for an item given as `input` and embedded as `converted`, or nil.
    /// `record` is false for a collection created with `no_documents`.
    static func document(input: Input?, converted: EmbedInput?, explicit: String, record: Bool) -> String? {
        if !explicit.isEmpty { return explicit }
        var members: [(String, JSONValue)] = []
        if record, let name = name(of: input), !name.isEmpty {
            members.append(("name", .string(clipped(name, to: maxNameBytes).text)))
        }
        var text: String?
        if record, let converted {
            switch converted {
            case .text(let s):
                switch input?.kind {
                case .file(let f)? where !f.mimeType.isEmpty: members.append(("mime_type", .string(f.mimeType)))
                case .media(let m)? where !m.mimeType.isEmpty: members.append(("mime_type", .string(m.mimeType)))
                default: break
                }
                if text == nil { text = s }
            case .encoded(let bytes, let mime):
                if !mime.isEmpty { members.append(("mime_type", .string(mime))) }
                members.append(("bytes", .number(JSONNumber(text: String(bytes.count)))))
            case .file(let file, let mime):
                if !mime.isEmpty { members.append(("mime_type", .string(mime))) }
                members.append(("bytes", .number(JSONNumber(text: String(file.size)))))
            case .rgb8, .pcm:
                break
            }
        }
        guard let text else { return members.isEmpty ? nil : JSONWriter.compact(.object(members)) }
        // Escapes make the JSON longer than the text: cut further until it fits.
        var budget = VectorCollection.maxDocumentBytes
        while true {
            let (kept, cut) = clipped(text, to: budget)
            let json = JSONWriter.compact(.object(members + [("text", .string(kept))] + (cut ? [("truncated", .bool(true))] : [])))
            let over = json.utf8.count - VectorCollection.maxDocumentBytes
            if over <= 0 { return json }
            budget -= max(over, 64)
        }
    }

    /// The file name a client gave with a passed file or media bytes.
    private static func name(of input: Input?) -> String? {
        switch input?.kind {
        case .file(let f)?: return f.name
        case .media(let m)?: return m.name
        default: return nil
        }
    }

    /// Why `document` (an `UpsertItem.document`) cannot be stored, or nil when it can: it must
    /// be one JSON object of at most `VectorCollection.maxDocumentBytes`.
    static func problem(explicit document: String) -> String? {
        guard document.utf8.count <= VectorCollection.maxDocumentBytes else {
            return "document is \(document.utf8.count) bytes; the limit is \(VectorCollection.maxDocumentBytes)"
        }
        guard let problem = Record.metadataProblem(document) else { return nil }
        return problem.hasPrefix("metadata") ? "document" + problem.dropFirst("metadata".count) : problem
    }

    /// `s` cut to at most `limit` UTF-8 bytes at a character boundary, and whether it was cut.
    static func clipped(_ s: String, to limit: Int) -> (text: String, cut: Bool) {
        guard s.utf8.count > limit else { return (s, false) }
        let utf8 = Array(s.utf8)
        var end = max(0, limit)
        while end > 0 && (utf8[end] & 0xC0) == 0x80 { end -= 1 }  // not inside a character's bytes
        return (String(decoding: utf8[..<end], as: UTF8.self), true)
    }
}
