import EmbedJSON
import EmbedPluginHost
import EmbedStore

/// How a recording's time windows are stored beside it (UpsertRequest.segments): the item
/// itself under `KEY`, and one record per window under `KEY#t=START,END` — the W3C media
/// fragment syntax, seconds with at most three decimals — whose metadata is the item's plus
/// `start`, `end` and `segment_of`. `KEY`'s own metadata gains `segments`, the list of
/// `[start, end]` pairs, which is how a later replacement or delete of `KEY` finds the
/// records to remove without scanning the collection.
enum SegmentRecords {
    /// Metadata fields the daemon writes; an item asking for segments may not set them itself.
    static let reservedFields = ["start", "end", "segment_of", "segments"]

    /// `12.5` → "12.5", `30` → "30", `1/3` → "0.333": at most three decimals, no trailing zeros.
    static func seconds(_ t: Double) -> String {
        let millis = (t * 1000).rounded()
        let whole = Int(millis / 1000)
        let frac = Int(millis) - whole * 1000
        guard frac != 0 else { return String(whole) }
        var digits = String(frac)
        while digits.count < 3 { digits = "0" + digits }
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }

    /// The key of `parent`'s window [start, end).
    static func key(_ parent: String, start: Double, end: Double) -> String {
        "\(parent)#t=\(seconds(start)),\(seconds(end))"
    }

    /// Why an item's metadata cannot take segments (it sets a reserved field), or nil.
    static func reservedFieldProblem(_ metadata: String) -> String? {
        guard !metadata.isEmpty, let members = try? JSONValue.parse(metadata).members else { return nil }
        let taken = members.map { $0.0 }.filter { reservedFields.contains($0) }
        guard let first = taken.first else { return nil }
        return "metadata field '\(first)' is reserved when segments are stored (the daemon writes \(reservedFields.joined(separator: ", ")))"
    }

    /// The records to store for one embedded item: the item (its metadata listing its
    /// windows) and one record per window, each with the item's `document` (so a hit on a
    /// window names its file). Throws a message when a segment key would exceed the store's
    /// 1024-byte key limit.
    static func records(key: String, vector: [Float], metadata: String, document: String? = nil,
                        segments: [TimeSegment]) throws(RPCError) -> [Record] {
        let user = metadata.isEmpty ? [] : ((try? JSONValue.parse(metadata).members) ?? [])
        guard !segments.isEmpty else {
            return [Record(key: key, vector: vector, metadata: metadata.isEmpty ? nil : metadata, document: document)]
        }
        let spans = segments.map { (seconds($0.start), seconds($0.end)) }
        let list = JSONValue.array(spans.map { .array([.number(JSONNumber(text: $0.0)), .number(JSONNumber(text: $0.1))]) })
        var out = [Record(key: key, vector: vector, metadata: JSONWriter.compact(.object(user + [("segments", list)])), document: document)]
        for (segment, (s, e)) in zip(segments, spans) {
            let k = "\(key)#t=\(s),\(e)"
            guard k.utf8.count <= 1024 else {
                throw RPCError(.invalidArgument, "segment key '\(k.prefix(60))…' is \(k.utf8.count) bytes; keys are at most 1024 (use a shorter key)")
            }
            let meta = JSONValue.object(user + [("start", .number(JSONNumber(text: s))), ("end", .number(JSONNumber(text: e))),
                                                ("segment_of", .string(key))])
            out.append(Record(key: k, vector: segment.vector, metadata: JSONWriter.compact(meta), document: document))
        }
        return out
    }

    /// The keys of the segment records a stored item lists in its metadata (none when it has
    /// no `segments` field, or one the daemon did not write).
    static func storedKeys(of key: String, metadata: String?) -> [String] {
        // Most records have no segments: skip the parse unless the field name is there at all.
        guard let metadata, metadata.contains("\"segments\""),
              let list = (try? JSONValue.parse(metadata))?["segments"]?.array else { return [] }
        var keys: [String] = []
        for pair in list {
            guard let p = pair.array, p.count == 2, let s = p[0].number?.text, let e = p[1].number?.text else { return [] }
            keys.append("\(key)#t=\(s),\(e)")
        }
        return keys
    }
}
