import EmbedJSON

/// One embedd record on its way to Milvus, and its JSON row.
///
/// The row mapping (the same for REST v1 and v2; docs/milvus.md has the table):
/// - `key`: embedd's key (the VARCHAR primary key under v2, a dynamic field under v1);
/// - `id`: under v1 when the collection's Int64 primary key is not autoID, `MilvusKeyHash.id(key)`;
/// - `vector`: the vector, each float written so it reads back bit-equal (`JSONWriter.float32`);
/// - `metadata`: the metadata object as a JSON value (absent when the record has none), so
///   Milvus filters can reach it (`metadata["lang"] == "en"`);
/// - `metadata_text`: only where Milvus would not give the metadata back equal: an integer
///   beyond ±2⁵³ (Milvus holds JSON numbers as float64) — the exact metadata text, as a string;
/// - `document`: the stored document object, where the collection keeps one.
public struct MilvusRecord: Sendable, Equatable {
    public var key: String
    public var vector: [Float]
    /// The metadata object's JSON text, or "" for none.
    public var metadata: String
    /// The document object's JSON text, or "" for none.
    public var document: String

    public init(key: String, vector: [Float], metadata: String = "", document: String = "") {
        self.key = key
        self.vector = vector
        self.metadata = metadata
        self.document = document
    }

    /// Appends the record's JSON row to `out`; `hashedID` adds the `id` field.
    /// Throws for a non-finite vector component (JSON has none) and for metadata or a
    /// document that is not a JSON object.
    public func appendRow(to out: inout String, hashedID: Bool) throws(MilvusError) {
        out += "{\"key\":"
        JSONWriter.appendQuoted(key, to: &out)
        if hashedID { out += ",\"id\":" + String(MilvusKeyHash.id(key)) }
        out += ",\"vector\":["
        for (i, f) in vector.enumerated() {
            if i > 0 { out += "," }
            guard let text = JSONWriter.float32(f) else {
                throw .incompatible("record '\(key)': component \(i) of its vector is \(f), which JSON cannot carry")
            }
            out += text
        }
        out += "]"
        if !metadata.isEmpty {
            let value = try Self.object(metadata, what: "metadata", key: key)
            out += ",\"metadata\":" + JSONWriter.compact(value)
            if Self.hasWideInteger(value) {
                out += ",\"metadata_text\":"
                JSONWriter.appendQuoted(metadata, to: &out)
            }
        }
        if !document.isEmpty {
            out += ",\"document\":" + JSONWriter.compact(try Self.object(document, what: "document", key: key))
        }
        out += "}"
    }

    /// Parses `text` as a JSON object (the daemon hands out objects only; a mistake here is named).
    static func object(_ text: String, what: String, key: String) throws(MilvusError) -> JSONValue {
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch {
            throw .incompatible("record '\(key)': its \(what) is not JSON (\(error))")
        }
        guard value.members != nil else { throw .incompatible("record '\(key)': its \(what) is \(value.typeName), not an object") }
        return value
    }

    /// Whether `value` holds an integer literal Milvus's float64 JSON cannot keep exactly.
    static func hasWideInteger(_ value: JSONValue) -> Bool {
        switch value {
        case .number(let n):
            guard !n.text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else { return false }
            guard let i = Int64(n.text) else { return true }  // beyond int64: surely beyond 2^53
            return i.magnitude > 1 << 53
        case .array(let items): return items.contains(where: hasWideInteger)
        case .object(let members): return members.contains { hasWideInteger($0.1) }
        default: return false
        }
    }

    /// A JSON array of rows.
    public static func rows(_ records: some Collection<MilvusRecord>, hashedID: Bool) throws(MilvusError) -> String {
        var out = "["
        out.reserveCapacity(records.count * ((records.first?.vector.count ?? 0) * 12 + 64))
        for (i, r) in records.enumerated() {
            if i > 0 { out += "," }
            try r.appendRow(to: &out, hashedID: hashedID)
        }
        return out + "]"
    }
}
