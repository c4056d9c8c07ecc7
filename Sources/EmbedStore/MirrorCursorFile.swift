import EmbedSys

/// The `mirrors` file of a collection: every registered mirror's cursor, replaced atomically
/// (`FileSystem.replaceFile`: temporary file, fsync, rename, directory fsync) at each change.
/// docs/storage.md gives the bytes:
///
///     magic "EMBMIRR\0" | version u32 | count u32
///     | count × (target blob | prefix blob | sequence u64 | registered ms u64 | acked ms u64)
///     | crc32c u32 (of everything before it)
///
/// (a blob is a u32 length and that many bytes of UTF-8).
enum MirrorCursorFile {
    static let magic: [UInt8] = Array("EMBMIRR".utf8) + [0]
    static let version: UInt32 = 1
    static let name = "mirrors"
    /// At most this many mirrors per collection (each retains log, so a handful is plenty).
    static let maxMirrors = 64
    static let maxTargetBytes = 1024

    static func encode(_ cursors: [MirrorCursor]) -> [UInt8] {
        var w = ByteWriter()
        w.raw(magic)
        w.u32(version)
        w.u32(UInt32(cursors.count))
        for c in cursors {
            w.blob(Array(c.target.utf8))
            w.blob(Array(c.prefix.utf8))
            w.u64(c.sequence)
            w.u64(c.registeredUnixMs)
            w.u64(c.ackedUnixMs)
        }
        w.u32(CRC32C.checksum(w.bytes))
        return w.bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws(StoreError) -> [MirrorCursor] {
        func bad(_ d: String) -> StoreError { .corrupt(file: path, detail: d) }
        guard bytes.count >= 8 + 4 + 4 + 4, Array(bytes[0..<8]) == magic else { throw bad("not a mirrors file (bad magic or too short)") }
        let body = bytes.count - 4
        let crc = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: body, as: UInt32.self) }
        guard CRC32C.checksum(Array(bytes[0..<body])) == crc else { throw bad("checksum mismatch") }
        return try withBytes(of: bytes) { raw throws(StoreError) in
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: raw[0..<body]), offset: 8)
            guard let v = r.u32(), v == version else { throw bad("format version is not \(version) (written by a newer embedd?)") }
            guard let n = r.u32(), Int(n) <= maxMirrors else { throw bad("mirror count is malformed") }
            var out: [MirrorCursor] = []
            for i in 0..<Int(n) {
                guard let target = r.blob(limit: maxTargetBytes), let prefix = r.blob(limit: VectorCollection.maxKeyBytes),
                      let seq = r.u64(), let registered = r.u64(), let acked = r.u64() else {
                    throw bad("mirror \(i) is malformed")
                }
                out.append(MirrorCursor(target: String(decoding: target, as: UTF8.self), prefix: String(decoding: prefix, as: UTF8.self),
                                        sequence: seq, registeredUnixMs: registered, ackedUnixMs: acked))
            }
            guard r.remaining == 0 else { throw bad("\(r.remaining) bytes follow the last mirror") }
            return out
        }
    }

    /// The cursors stored in `directory` (none when the file does not exist).
    static func load(directory: String) throws(StoreError) -> [MirrorCursor] {
        let path = directory + "/" + name
        try? FileSystem.unlink(path + ".tmp")  // a replacement that died before its rename
        guard FileSystem.exists(path) else { return [] }
        let bytes = try io(path, "read") { () throws(Errno) in try FileSystem.readFile(path, limit: 1 << 20) }
        return try decode(bytes, path: path)
    }

    /// Replaces the file (removes it when `cursors` is empty).
    static func save(_ cursors: [MirrorCursor], directory: String) throws(StoreError) {
        let path = directory + "/" + name
        if cursors.isEmpty {
            do { try FileSystem.unlink(path) } catch { if error != .noSuchFile { throw StoreError.io(path: path, operation: "unlink", errno: error) } }
            try io(directory, "fsync") { () throws(Errno) in try FileSystem.syncDirectory(directory) }
            return
        }
        try io(path, "write") { () throws(Errno) in
            try FileSystem.replaceFile(path, with: encode(cursors), temporary: path + ".tmp", directory: directory)
        }
    }
}
