import EmbedSys

/// The checkpoint file `index.snap`: a 4096-byte header followed by page-aligned sections that
/// `NodeStore` maps directly (docs/storage.md gives every byte). Written whole to a temporary
/// file, fsync'd, renamed over the old one, then the directory is fsync'd.
enum SnapshotFile {
    static let magic: [UInt8] = Array("EMBSNAP".utf8) + [0]
    static let version: UInt32 = 2
    static let headerSize = 4096
    static let headerCRCOffset = 320
    static let noEntry: UInt32 = 0xFFFF_FFFF

    enum Kind: UInt32, CaseIterable {
        case nodes = 1, upper = 2, records = 3, heap = 4, keyTable = 5, pending = 6
    }

    struct Section {
        var kind: Kind
        var offset: Int64
        var length: Int64
        var crc: UInt32
    }

    /// Header fields (everything but the section table).
    struct Header {
        var dimension: Int
        var metric: Metric
        var storage: StorageType
        var m: Int
        var stride: Int
        var nodeCount: Int
        var liveCount: Int
        var deletedCount: Int
        var entryPoint: UInt32?
        var maxLevel: Int
        var walSeq: UInt64
        var rngState: UInt64
        var upperWords: Int
        var heapBytes: Int
        var keySlots: Int
        var pendingCount: Int
        var normBound2: Float
    }

    /// An opened snapshot: descriptor kept open for the mappings' lifetime is not needed by
    /// Linux, but the header and the pending list are read from it.
    /// Immutable after init; `pread` on its descriptor is thread-safe, hence `@unchecked Sendable`.
    final class Mapped: @unchecked Sendable {
        let path: String
        let descriptor: FileDescriptor
        let header: Header
        let sections: [Kind: Section]
        let fileSize: Int64

        var nodeCount: Int { header.nodeCount }
        var upperWords: Int { header.upperWords }
        var heapBytes: Int { header.heapBytes }
        var entryPoint: UInt32? { header.entryPoint }
        var maxLevel: Int { header.maxLevel }

        func section(_ kind: Kind) -> Section { sections[kind]! }

        init(path: String, descriptor: FileDescriptor, header: Header, sections: [Kind: Section], fileSize: Int64) {
            self.path = path
            self.descriptor = descriptor
            self.header = header
            self.sections = sections
            self.fileSize = fileSize
        }

        deinit { try? descriptor.close() }

        /// Reads a whole section (small ones: the pending list).
        func read(_ kind: Kind) throws(StoreError) -> [UInt8] {
            let s = section(kind)
            var bytes = [UInt8](repeating: 0, count: Int(s.length))
            var done = 0
            while done < bytes.count {
                let n = try io(path, "read") { () throws(Errno) in
                    try withMutableBytes(of: &bytes) { raw throws(Errno) in
                        try descriptor.read(fromAbsoluteOffset: s.offset + Int64(done),
                                            into: UnsafeMutableRawBufferPointer(rebasing: raw[done...]))
                    }
                }
                if n == 0 { throw StoreError.corrupt(file: path, detail: "section \(kind) is cut short") }
                done += n
            }
            return bytes
        }
    }

    // MARK: Reading

    /// Opens and validates the header and section table (O(1): no section is read).
    static func open(path: String, expected: CollectionConfig) throws(StoreError) -> Mapped {
        let fd = try io(path, "open") { () throws(Errno) in try FileDescriptor.open(path, .readOnly) }
        do throws(StoreError) {
            let size = try io(path, "fstat") { () throws(Errno) in try fd.fileSize() }
            guard size >= Int64(headerSize) else {
                throw StoreError.corrupt(file: path, detail: "file is \(size) bytes, shorter than its \(headerSize)-byte header")
            }
            var raw = [UInt8](repeating: 0, count: headerSize)
            let n = try io(path, "read") { () throws(Errno) in
                try withMutableBytes(of: &raw) { (b: UnsafeMutableRawBufferPointer) throws(Errno) in try fd.read(fromAbsoluteOffset: 0, into: b) }
            }
            guard n == headerSize else { throw StoreError.corrupt(file: path, detail: "short header read") }
            let (header, sections) = try withBytes(of: raw) { buffer throws(StoreError) in
                try parseHeader(buffer, path: path, fileSize: size, expected: expected)
            }
            return Mapped(path: path, descriptor: fd, header: header, sections: sections, fileSize: size)
        } catch {
            try? fd.close()
            throw error
        }
    }

    static func parseHeader(_ b: UnsafeRawBufferPointer, path: String, fileSize: Int64,
                            expected: CollectionConfig) throws(StoreError) -> (Header, [Kind: Section]) {
        func bad(_ detail: String) -> StoreError { .corrupt(file: path, detail: detail) }
        guard Array(b[0..<8]) == magic else { throw bad("not a snapshot file (bad magic)") }
        var r = ByteReader(b, offset: 8)
        let version = r.u32()!
        // Format 1 is format 2 without documents in the heap (`RecordPayload`): same layout.
        guard (1...SnapshotFile.version).contains(version) else {
            throw bad("snapshot format version \(version) is not supported (this build reads 1…\(SnapshotFile.version))")
        }
        let storedCRC = b.loadUnaligned(fromByteOffset: headerCRCOffset, as: UInt32.self)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: b[0..<headerCRCOffset])) == storedCRC else {
            throw bad("header checksum mismatch")
        }
        _ = r.u32()  // header size
        let dim = Int(r.u32()!), metricCode = r.u32()!, storageCode = r.u32()!, m = Int(r.u32()!), _ = r.u32()!, stride = Int(r.u32()!)
        guard dim == expected.dimension, Metric(code: metricCode) == expected.metric, m == expected.hnsw.m,
              StorageType(code: storageCode) == expected.storage else {
            throw bad("header (dimension \(dim), metric code \(metricCode), storage code \(storageCode), m \(m)) disagrees with collection.meta")
        }
        guard stride == NodeStore.layout(dimension: dim, m: m, storage: expected.storage).stride else {
            throw bad("node stride \(stride) is wrong for dimension \(dim), m \(m), \(expected.storage.rawValue) storage")
        }
        // Counts and sizes are bounded by the file's size before any arithmetic: a header whose
        // checksum matches may still be crafted, and `Int(_:)` or a product would trap.
        func bounded(_ v: UInt64, _ what: String) throws(StoreError) -> Int {
            guard v <= UInt64(max(fileSize, 0)) else { throw bad("\(what) \(v) exceeds the \(fileSize)-byte file") }
            return Int(v)
        }
        let nodeCount = try bounded(r.u64()!, "node count"), live = try bounded(r.u64()!, "live count")
        let deleted = try bounded(r.u64()!, "deleted count")
        let entry = r.u32()!, maxLevel = Int(Int32(bitPattern: r.u32()!))
        let walSeq = r.u64()!, rng = r.u64()!, upperWords = try bounded(r.u64()!, "upper words"), heapBytes = try bounded(r.u64()!, "heap bytes")
        let keySlots = try bounded(r.u64()!, "key slots"), pendingCount = try bounded(r.u64()!, "pending count")
        let sectionCount = Int(r.u32()!)
        let normBound2 = Float(bitPattern: r.u32()!)
        guard nodeCount < Int(UInt32.max), live + deleted <= nodeCount, live >= 0, deleted >= 0 else { throw bad("node counts are inconsistent") }
        guard (entry == noEntry) == (maxLevel < 0), entry == noEntry || Int(entry) < nodeCount, maxLevel < 64 else {
            throw bad("entry point \(entry) / max level \(maxLevel) are inconsistent")
        }
        guard keySlots == 0 || keySlots & (keySlots - 1) == 0, pendingCount <= nodeCount else { throw bad("key table or pending counts are inconsistent") }
        guard sectionCount == Kind.allCases.count else { throw bad("expected \(Kind.allCases.count) sections, found \(sectionCount)") }
        var sections: [Kind: Section] = [:]
        for _ in 0..<sectionCount {
            guard let kind = Kind(rawValue: r.u32()!) else { throw bad("unknown section kind") }
            _ = r.u32()
            let offset = Int64(bitPattern: r.u64()!), length = Int64(bitPattern: r.u64()!)
            let crc = r.u32()!
            _ = r.u32()
            guard offset >= Int64(headerSize), offset % 4096 == 0, offset <= fileSize, length >= 0, length <= fileSize - offset else {
                throw bad("section \(kind) (offset \(offset), length \(length)) lies outside the \(fileSize)-byte file (truncated?)")
            }
            sections[kind] = Section(kind: kind, offset: offset, length: length, crc: crc)
        }
        guard sections.count == Kind.allCases.count else { throw bad("duplicate sections") }
        let expectedLengths: [Kind: Int] = [
            .nodes: nodeCount * stride, .upper: upperWords * 4, .records: nodeCount * NodeStore.recordBytes,
            .heap: heapBytes, .keyTable: keySlots * 8, .pending: pendingCount * 4,
        ]
        for (kind, length) in expectedLengths where sections[kind]!.length != Int64(length) {
            throw bad("section \(kind) is \(sections[kind]!.length) bytes, header implies \(length)")
        }
        let header = Header(dimension: dim, metric: expected.metric, storage: expected.storage, m: m, stride: stride, nodeCount: nodeCount,
                            liveCount: live, deletedCount: deleted, entryPoint: entry == noEntry ? nil : entry,
                            maxLevel: maxLevel, walSeq: walSeq, rngState: rng, upperWords: upperWords,
                            heapBytes: heapBytes, keySlots: keySlots, pendingCount: pendingCount,
                            normBound2: normBound2.isFinite && normBound2 >= 0 ? normBound2 : 0)
        return (header, sections)
    }

    /// Checks every section's checksum by reading it through `region`-independent `pread`s.
    static func verifySections(_ s: Mapped) throws(StoreError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        for kind in Kind.allCases {
            let section = s.section(kind)
            var crc: UInt32 = 0
            var done: Int64 = 0
            while done < section.length {
                let want = Int(min(Int64(buffer.count), section.length - done))
                let n = try io(s.path, "read") { () throws(Errno) in
                    try withMutableBytes(of: &buffer) { raw throws(Errno) in
                        try s.descriptor.read(fromAbsoluteOffset: section.offset + done,
                                              into: UnsafeMutableRawBufferPointer(rebasing: raw[..<want]))
                    }
                }
                if n == 0 { throw StoreError.corrupt(file: s.path, detail: "section \(kind) is cut short at offset \(section.offset + done)") }
                crc = buffer.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[..<n]), continuing: crc) }
                done += Int64(n)
            }
            guard crc == section.crc else {
                throw StoreError.corrupt(file: s.path, detail: "section \(kind) checksum mismatch (flipped or lost bytes somewhere in its \(section.length) bytes at offset \(section.offset))")
            }
        }
    }

    // MARK: Writing

    /// Writes `header` and `sections` (in `Kind` order) to `path` via `path.tmp`, fsyncs the
    /// file, renames it into place and fsyncs `directory`.
    static func write(path: String, directory: String, header: Header, sections: [(Kind, UnsafeRawBufferPointer)]) throws(StoreError) {
        let tmp = path + ".tmp"
        let fd = try io(tmp, "create") { () throws(Errno) in try FileDescriptor.open(tmp, [.writeOnly, .create, .truncate]) }
        var table: [Section] = []
        do throws(StoreError) {
            var offset = Int64(headerSize)
            for (kind, bytes) in sections {
                let crc = CRC32C.checksum(bytes)
                try io(tmp, "write") { () throws(Errno) in try fd.writeAll(toAbsoluteOffset: offset, bytes) }
                table.append(Section(kind: kind, offset: offset, length: Int64(bytes.count), crc: crc))
                offset += (Int64(bytes.count) + 4095) / 4096 * 4096
            }
            // Pad so the last section's final page is inside the file (mapping it must not fault).
            try io(tmp, "ftruncate") { () throws(Errno) in try fd.resize(to: offset) }
            let headerBytes = encodeHeader(header, sections: table)
            try io(tmp, "write") { () throws(Errno) in
                try withBytes(of: headerBytes) { raw throws(Errno) in try fd.writeAll(toAbsoluteOffset: 0, raw) }
            }
            try io(tmp, "fsync") { () throws(Errno) in try fd.sync() }
            try? fd.close()
        } catch {
            try? fd.close()
            try? FileSystem.unlink(tmp)
            throw error
        }
        try io(path, "rename") { () throws(Errno) in try FileSystem.rename(tmp, to: path) }
        try io(directory, "fsync") { () throws(Errno) in try FileSystem.syncDirectory(directory) }
    }

    static func encodeHeader(_ h: Header, sections: [Section]) -> [UInt8] {
        var w = ByteWriter(capacity: headerSize)
        w.raw(magic)
        w.u32(version)
        w.u32(UInt32(headerSize))
        w.u32(UInt32(h.dimension))
        w.u32(h.metric.code)
        w.u32(h.storage.code)
        w.u32(UInt32(h.m))
        w.u32(UInt32(2 * h.m))
        w.u32(UInt32(h.stride))
        w.u64(UInt64(h.nodeCount))
        w.u64(UInt64(h.liveCount))
        w.u64(UInt64(h.deletedCount))
        w.u32(h.entryPoint ?? noEntry)
        w.u32(UInt32(bitPattern: Int32(h.maxLevel)))
        w.u64(h.walSeq)
        w.u64(h.rngState)
        w.u64(UInt64(h.upperWords))
        w.u64(UInt64(h.heapBytes))
        w.u64(UInt64(h.keySlots))
        w.u64(UInt64(h.pendingCount))
        w.u32(UInt32(sections.count))
        w.u32(h.normBound2.bitPattern)
        for s in sections {
            w.u32(s.kind.rawValue)
            w.u32(0)
            w.u64(UInt64(s.offset))
            w.u64(UInt64(s.length))
            w.u32(s.crc)
            w.u32(0)
        }
        precondition(w.bytes.count == headerCRCOffset)
        w.u32(CRC32C.checksum(w.bytes))
        w.pad(to: headerSize)
        return w.bytes
    }
}
