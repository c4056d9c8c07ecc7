/// One acknowledged write as the collection applies it: what a log record decodes to, and
/// what a writer hands to group commit together with the record's bytes.
enum WriteOperation {
    case upsert([Record], [Float])  // records and their inverse norms
    case delete([String])

    /// Keys upserted or deleted.
    var recordCount: Int {
        switch self {
        case .upsert(let r, _): return r.count
        case .delete(let k): return k.count
        }
    }

    /// Decodes a log record; nil when its payload does not parse (a record with a valid checksum
    /// that cannot be decoded: damage, reported by the caller).
    static func decode(_ e: WriteAheadLog.Entry, dimension: Int, metric: Metric, storage: StorageType) -> WriteOperation? {
        var r = ByteReader(e.payload)
        guard let n = r.u32() else { return nil }
        switch e.type {
        case .upsert:
            var records: [Record] = []
            var norms: [Float] = []
            for _ in 0..<n {
                guard let key = r.blob(limit: VectorCollection.maxKeyBytes), let payload = r.blob(limit: RecordPayload.maxBytes),
                      let raw = r.raw(dimension * 4) else { return nil }
                let v = (0..<dimension).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
                var inv: Float = 1
                if metric == .cosine {
                    guard let i = NodeStore.storedInverseNorm(v, storage: storage) else { return nil }  // as `validate` computed it
                    inv = i
                }
                let meta = RecordPayload.metadata(in: payload), document = RecordPayload.document(in: payload)
                records.append(Record(key: String(decoding: key, as: UTF8.self), vector: v,
                                      metadata: meta.isEmpty ? nil : String(decoding: meta, as: UTF8.self),
                                      document: document.isEmpty ? nil : String(decoding: document, as: UTF8.self)))
                norms.append(inv)
            }
            return r.remaining == 0 ? .upsert(records, norms) : nil
        case .delete:
            var keyList: [String] = []
            for _ in 0..<n {
                guard let key = r.blob(limit: VectorCollection.maxKeyBytes) else { return nil }
                keyList.append(String(decoding: key, as: UTF8.self))
            }
            return r.remaining == 0 ? .delete(keyList) : nil
        }
    }
}
