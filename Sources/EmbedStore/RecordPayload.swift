import EmbedSys

/// How a record's metadata and document share one stored byte string, in the log's upsert
/// records and in the snapshot's heap: the metadata (a JSON object, or nothing), then — only
/// when the record has a document — one NUL byte and the document (a JSON object).
///
/// JSON text cannot hold a raw NUL (control characters must be escaped), so the first NUL
/// always ends the metadata; files written before documents existed (log format ≤ 3, snapshot
/// format 1) never hold one and read as records without a document.
enum RecordPayload {
    /// The stored bytes for `metadata` and `document` (either may be nil).
    static func encode(metadata: String?, document: String?) -> [UInt8] {
        var out = Array((metadata ?? "").utf8)
        if let document, !document.isEmpty {
            out.reserveCapacity(out.count + 1 + document.utf8.count)
            out.append(0)
            out.append(contentsOf: document.utf8)
        }
        return out
    }

    /// Bytes a payload may hold: metadata, the separator and a document at their limits.
    static let maxBytes = VectorCollection.maxMetadataBytes + 1 + VectorCollection.maxDocumentBytes

    /// The metadata part of `payload`.
    static func metadata(in payload: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard let nul = RawMemory.firstIndex(of: 0, in: payload) else { return payload }
        return UnsafeRawBufferPointer(rebasing: payload[..<nul])
    }

    /// The document part of `payload` (empty when it has none).
    static func document(in payload: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard let nul = RawMemory.firstIndex(of: 0, in: payload) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: payload[(nul + 1)...])
    }
}
