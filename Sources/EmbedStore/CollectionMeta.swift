import EmbedSys

/// `collection.meta`: the immutable configuration of a collection, written once at creation
/// (via a temporary file, fsync, rename, directory fsync). docs/storage.md gives the bytes.
enum CollectionMeta {
    static let magic: [UInt8] = Array("EMBCOLL".utf8) + [0]
    static let version: UInt32 = 1

    static func encode(name: String, config c: CollectionConfig) -> [UInt8] {
        var w = ByteWriter()
        w.raw(magic)
        w.u32(version)
        w.u32(UInt32(c.dimension))
        w.u32(c.metric.code)
        w.u32(c.storage.code)
        w.u32(UInt32(c.hnsw.m))
        w.u32(UInt32(c.hnsw.efConstruction))
        w.u32(UInt32(c.hnsw.ef))
        w.blob(Array((c.spaceID ?? "").utf8))
        w.blob(Array(name.utf8))
        w.u32(CRC32C.checksum(w.bytes))
        return w.bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws(StoreError) -> (name: String, config: CollectionConfig) {
        func bad(_ d: String) -> StoreError { .corrupt(file: path, detail: d) }
        guard bytes.count >= 8 + 4 * 7 + 4, Array(bytes[0..<8]) == magic else { throw bad("not a collection.meta file (bad magic or too short)") }
        let body = bytes.count - 4
        let crc = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: body, as: UInt32.self) }
        guard CRC32C.checksum(Array(bytes[0..<body])) == crc else { throw bad("checksum mismatch") }
        return try withBytes(of: bytes) { raw throws(StoreError) in
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: raw[0..<body]), offset: 8)
            guard r.u32() == version else { throw bad("unsupported version") }
            guard let dim = r.u32(), let metricCode = r.u32(), let storageCode = r.u32(),
                  let m = r.u32(), let efc = r.u32(), let ef = r.u32(),
                  let space = r.blob(limit: 255), let name = r.blob(limit: 255),
                  let metric = Metric(code: metricCode), let storage = StorageType(code: storageCode) else {
                throw bad("fields are malformed")
            }
            let spaceString = String(decoding: space, as: UTF8.self)
            let config = CollectionConfig(dimension: Int(dim), metric: metric,
                                          spaceID: spaceString.isEmpty ? nil : spaceString, storage: storage,
                                          hnsw: HNSWParameters(m: Int(m), efConstruction: Int(efc), ef: Int(ef)))
            do { try config.validate() } catch { throw bad("invalid configuration: \(error)") }
            return (String(decoding: name, as: UTF8.self), config)
        }
    }
}
