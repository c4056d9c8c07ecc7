import EmbedSys
import Synchronization

/// The write-ahead log `wal.log`: a 32-byte header, then records appended and fdatasync'd
/// before a write is acknowledged (docs/storage.md).
///
///     header: magic "EMBWAL\0\1" | version u32 | 0 u32 | baseSeq u64 (format 3) | crc32c u32
///
/// `baseSeq` is the sequence the log continues from (the checkpoint that last emptied it):
/// without it, a log emptied at a checkpoint could not tell that the snapshot holding
/// everything before it has gone missing.
///
///     record: magic u32 "WALR" | payloadLength u32 | crc32c u32 (of seq … payload)
///             | seq u64 | type u8 | 0 u8 | indexInGroup u16 (format 2; 0 in format 1) | payload
///
/// A group commit writes its records with one `pwrite` and one `fdatasync`; `indexInGroup`
/// numbers them 0, 1, 2 … so recovery knows which records were made durable together.
///
/// Replay stops at the first record that is short or fails its checksum. If nothing valid
/// follows, that is a torn tail — normally a write cut short by a crash, which was never
/// acknowledged because acknowledgement follows `fdatasync` — and is cut off. If valid
/// records follow, they may be the rest of the last group commit — a power loss can persist
/// a later sector of one `pwrite` and not an earlier one (which still reads as the zero
/// reserve), and none of that group was acknowledged — and the tail is cut too (format 2). Otherwise acknowledged data was damaged
/// and opening fails with an error instead of guessing.
///
/// The file is extended ahead of the records with zeros that are written and fsync'd once
/// (`preallocated`): an fdatasync that overwrites allocated blocks need not update the file's
/// size or extents, which halves its cost on ext4 (figures: bench/NOTES.md, "Figures moved out of code comments"). Zeros after the
/// last record are that reserve, not damage.
final class WriteAheadLog {
    static let magic: [UInt8] = Array("EMBWAL".utf8) + [0, 1]
    /// Written in new headers; 3 (upserts without documents: the same bytes, see
    /// `RecordPayload`), 2 (no `baseSeq`) and 1 (records without group numbers) are still read.
    static let version: UInt32 = 4
    static let headerSize = 32
    static let recordMagic: UInt32 = 0x524C_4157  // "WALR"
    static let recordHeaderSize = 24
    static let maxPayload = 1 << 30

    enum RecordType: UInt8 { case upsert = 1, delete = 2 }

    struct Entry {
        var seq: UInt64
        var type: RecordType
        /// Position in its group commit (0 = first); always 0 in a format-1 log.
        var indexInGroup: Int
        var payload: UnsafeRawBufferPointer
    }

    let path: String
    let descriptor: FileDescriptor
    /// The sequence this log continued from when opened, as its header said (nil in formats
    /// 1 and 2); a later `reset` writes a new one.
    let baseSeq: UInt64?
    /// The sequence of the first record found at open (nil if there was none).
    let firstSeq: UInt64?
    /// Bytes of the log (header + valid records); the file may be longer (zero reserve).
    /// Written by the log's one writer of the moment (commit leader, checkpoint), read by
    /// anyone (stats, checkpoint triggers): hence atomic.
    var size: Int64 { sizeStorage.load(ordering: .acquiring) }
    private let sizeStorage: Atomic<Int64>
    /// Bytes of the file known to be written (records or zeros) and fsync'd.
    private var preallocated: Int64

    private init(path: String, descriptor: FileDescriptor, size: Int64, preallocated: Int64, baseSeq: UInt64?, firstSeq: UInt64?) {
        self.path = path
        self.descriptor = descriptor
        self.baseSeq = baseSeq
        self.firstSeq = firstSeq
        self.sizeStorage = Atomic(size)
        self.preallocated = max(size, preallocated)
    }

    deinit { try? descriptor.close() }

    static func headerBytes(baseSeq: UInt64) -> [UInt8] {
        var w = ByteWriter(capacity: headerSize)
        w.raw(magic)
        w.u32(version)
        w.u32(0)
        w.u64(baseSeq)
        w.u32(CRC32C.checksum(w.bytes))
        w.pad(to: headerSize)
        return w.bytes
    }

    /// Creates an empty log at `path` (fsync'd; the caller fsyncs the directory).
    static func create(path: String) throws(StoreError) {
        let fd = try io(path, "create") { () throws(Errno) in try FileDescriptor.open(path, [.writeOnly, .create, .truncate]) }
        defer { try? fd.close() }
        try io(path, "write") { () throws(Errno) in try fd.writeAll(headerBytes(baseSeq: 0)) }
        try io(path, "fsync") { () throws(Errno) in try fd.sync() }
    }

    /// Opens the log, hands every valid record to `replay` in order, cuts a torn tail (calling
    /// `log` about it) and leaves the log ready for appends. `afterSeq`: the sequence the
    /// snapshot covers (a log emptied at that checkpoint continues with `afterSeq + 1`).
    static func open(path: String, afterSeq: UInt64 = 0, log: (LogLevel, String) -> Void,
                     replay: (Entry) throws(StoreError) -> Void) throws(StoreError) -> WriteAheadLog {
        let fd = try io(path, "open") { () throws(Errno) in try FileDescriptor.open(path, .readWrite) }
        do throws(StoreError) {
            let bytes = try io(path, "read") { () throws(Errno) in try fd.readAll() }
            guard bytes.count >= headerSize else {
                throw StoreError.corrupt(file: path, detail: "file is \(bytes.count) bytes, shorter than its \(headerSize)-byte header")
            }
            guard Array(bytes[0..<8]) == magic else { throw StoreError.corrupt(file: path, detail: "not a write-ahead log (bad magic)") }
            var baseSeq: UInt64?
            var firstSeq: UInt64?
            let valid = try withBytes(of: bytes) { raw throws(StoreError) -> Int in
                let v = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
                guard (1...version).contains(v) else {
                    throw StoreError.corrupt(file: path, detail: "log format version \(v) is not supported (this build reads 1…\(version))")
                }
                let crcOffset = v >= 3 ? 24 : 16
                guard raw.loadUnaligned(fromByteOffset: crcOffset, as: UInt32.self) == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<crcOffset])) else {
                    throw StoreError.corrupt(file: path, detail: "header checksum mismatch")
                }
                if v >= 3 { baseSeq = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self) }
                var offset = headerSize
                var lastSeq: UInt64 = 0
                while offset < raw.count {
                    guard let (entry, next) = parseRecord(raw, at: offset) else { break }
                    guard entry.seq > lastSeq else {
                        throw StoreError.corrupt(file: path, detail: "record at offset \(offset) has sequence \(entry.seq) after \(lastSeq)")
                    }
                    try replay(entry)
                    if firstSeq == nil { firstSeq = entry.seq }
                    lastSeq = entry.seq
                    offset = next
                }
                if offset < raw.count && !UnsafeRawBufferPointer(rebasing: raw[offset...]).allSatisfy({ $0 == 0 }) {
                    // Damaged record: a torn tail if no valid record follows it, or if what
                    // follows is the rest of the damaged record's own (last) group commit.
                    if let q = nextValidRecord(raw, after: offset) {
                        let firstDamaged = (lastSeq > 0 ? lastSeq : max(afterSeq, baseSeq ?? 0)) + 1
                        guard v >= 2, isRestOfLastGroup(raw, from: q, firstDamagedSeq: firstDamaged),
                              hasZeroSector(raw, from: offset, to: q) else {
                            throw StoreError.corrupt(file: path, detail: "damaged record at offset \(offset) is followed by valid records at offset \(q) and is not the torn end of the last group commit; acknowledged writes may be lost, refusing to guess")
                        }
                        log(.warning, "\(path): cut a torn group commit at offset \(offset) (\(raw.count - offset) bytes: the damaged records and the rest of their group, never acknowledged)")
                    } else {
                        // Truthful, not reassuring: a crash cannot tear an acknowledged record
                        // (`appendAndSync` returns, and the caller is answered, only after
                        // fdatasync), but damage to the file afterwards looks the same.
                        log(.warning, "\(path): cut torn or corrupt tail at offset \(offset) (\(raw.count - offset) bytes): the last record is incomplete, so it was cut. "
                            + "A crash cannot tear an acknowledged write (acknowledgement follows fdatasync), so this is normally a write that was never acknowledged; "
                            + "if the file was truncated or damaged after the fact, that record is lost")
                    }
                }
                return offset
            }
            let zeroTail = bytes[valid...].allSatisfy { $0 == 0 }
            if valid < bytes.count && !zeroTail {
                try io(path, "ftruncate") { () throws(Errno) in try fd.resize(to: Int64(valid)) }
                try io(path, "fsync") { () throws(Errno) in try fd.sync() }
            }
            // A zero tail is reserve left by `extend`; it was fsync'd before any record used it,
            // but sync again in case the crash came between its write and that fsync.
            if valid < bytes.count && zeroTail { try io(path, "fsync") { () throws(Errno) in try fd.sync() } }
            return WriteAheadLog(path: path, descriptor: fd, size: Int64(valid), preallocated: zeroTail ? Int64(bytes.count) : Int64(valid),
                                 baseSeq: baseSeq, firstSeq: firstSeq)
        } catch {
            try? fd.close()
            throw error
        }
    }

    /// The offset of the first parseable record after `offset`, if any.
    static func nextValidRecord(_ raw: UnsafeRawBufferPointer, after offset: Int) -> Int? {
        var probe = offset + 1
        while probe + recordHeaderSize <= raw.count {
            if raw.loadUnaligned(fromByteOffset: probe, as: UInt32.self) == recordMagic, parseRecord(raw, at: probe) != nil {
                return probe
            }
            probe += 1
        }
        return nil
    }

    /// Whether the valid records from `q` to the end are the rest of one group commit that
    /// began at or before the first damaged record (sequence `firstDamagedSeq`): then that
    /// group's `fdatasync` never completed (a later group would only start after it), so none
    /// of it was acknowledged. False if any of them starts a new group or anything valid lies
    /// beyond them.
    static func isRestOfLastGroup(_ raw: UnsafeRawBufferPointer, from q: Int, firstDamagedSeq: UInt64) -> Bool {
        guard let (first, _) = parseRecord(raw, at: q), first.indexInGroup > 0,
              first.seq >= UInt64(first.indexInGroup), first.seq - UInt64(first.indexInGroup) <= firstDamagedSeq else { return false }
        var offset = q
        var seq = first.seq
        while let (entry, next) = parseRecord(raw, at: offset) {
            if offset != q && (entry.indexInGroup == 0 || entry.seq != seq + 1) { return false }
            seq = entry.seq
            offset = next
        }
        return offset >= raw.count || nextValidRecord(raw, after: offset) == nil
    }

    /// Whether a 512-byte-aligned all-zero block lies inside `[from, to)`: the mark of a torn
    /// write into the zero reserve — the sector that did not persist still reads as zeros —
    /// as opposed to bit rot or a misdirected write inside acknowledged records.
    static func hasZeroSector(_ raw: UnsafeRawBufferPointer, from: Int, to: Int) -> Bool {
        var start = (from + 511) / 512 * 512
        while start + 512 <= to {
            if UnsafeRawBufferPointer(rebasing: raw[start..<(start + 512)]).allSatisfy({ $0 == 0 }) { return true }
            start += 512
        }
        return false
    }

    /// Parses one record at `offset`; nil if short, oversized or failing its checksum.
    static func parseRecord(_ raw: UnsafeRawBufferPointer, at offset: Int) -> (Entry, Int)? {
        guard offset + recordHeaderSize <= raw.count,
              raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self) == recordMagic else { return nil }
        let length = Int(raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        guard length <= maxPayload, offset + recordHeaderSize + length <= raw.count else { return nil }
        let crc = raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
        let body = UnsafeRawBufferPointer(rebasing: raw[(offset + 12)..<(offset + recordHeaderSize + length)])
        guard CRC32C.checksum(body) == crc,
              let type = RecordType(rawValue: raw[offset + 20]) else { return nil }
        let seq = raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt64.self)
        let indexInGroup = Int(raw.loadUnaligned(fromByteOffset: offset + 22, as: UInt16.self))
        let payload = UnsafeRawBufferPointer(rebasing: raw[(offset + recordHeaderSize)..<(offset + recordHeaderSize + length)])
        return (Entry(seq: seq, type: type, indexInGroup: indexInGroup, payload: payload), offset + recordHeaderSize + length)
    }

    /// Frames one record; `indexInGroup` is its position in the group commit (saturating at
    /// 65535, which only weakens recovery's torn-group rule for giant groups).
    static func frame(seq: UInt64, type: RecordType, payload: [UInt8], indexInGroup: Int = 0, into w: inout ByteWriter) {
        let start = w.bytes.count
        w.u32(recordMagic)
        w.u32(UInt32(payload.count))
        w.u32(0)
        w.u64(seq)
        w.u8(type.rawValue)
        w.u8(0)
        let index = UInt16(clamping: indexInGroup)
        w.u8(UInt8(truncatingIfNeeded: index)); w.u8(UInt8(truncatingIfNeeded: index >> 8))
        w.raw(payload)
        let crc = w.bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + 12)...])) }
        w.patch32(crc, at: start + 8)
    }

    /// Appends framed records and makes them durable (`pwrite` + `fdatasync`).
    ///
    /// Out of space (`StoreError.isOutOfSpace`), whatever of the records reached the file is
    /// cut off again before this throws — the caller reports them as not stored, so they must
    /// never replay — and the log stays usable: a later append may succeed once space is
    /// freed. Any other failure (including a failed cut) leaves the log unusable: after a
    /// failed fsync the kernel may have dropped pages, and retrying could acknowledge data that
    /// is not on disk.
    func appendAndSync(_ bytes: [UInt8]) throws(StoreError) {
        do throws(StoreError) {
            if size + Int64(bytes.count) > preallocated { try extend(toAtLeast: size + Int64(bytes.count)) }
            try io(path, "write") { () throws(Errno) in
                try withBytes(of: bytes) { raw throws(Errno) in try descriptor.writeAll(toAbsoluteOffset: size, raw) }
            }
            try io(path, "fdatasync") { () throws(Errno) in try descriptor.dataSync() }
        } catch {
            guard error.isOutOfSpace else { throw error }
            try cutBack(after: error)
            throw error
        }
        sizeStorage.add(Int64(bytes.count), ordering: .releasing)
    }

    /// Truncates the file to the log's length after a failed append, reserve included (its
    /// blocks go back to the full disk; `extend` writes it again). `ftruncate` needs no space.
    private func cutBack(after cause: StoreError) throws(StoreError) {
        do throws(StoreError) {
            try io(path, "ftruncate") { () throws(Errno) in try descriptor.resize(to: size) }
            try io(path, "fsync") { () throws(Errno) in try descriptor.sync() }
            preallocated = size
        } catch {
            // Never out-of-space: the caller must treat the log as unusable.
            throw StoreError.failed("\(path): cannot cut back the append that failed with \"\(cause)\": \(error)")
        }
    }

    /// Empties the log after a checkpoint at sequence `baseSeq` made its records redundant
    /// (`ftruncate` + `fsync`), recording `baseSeq` in the header: the log now continues from
    /// the snapshot, and says so. The reserve goes too: records past the new end must never
    /// survive into a later replay.
    func reset(baseSeq: UInt64) throws(StoreError) {
        try io(path, "ftruncate") { () throws(Errno) in try descriptor.resize(to: Int64(WriteAheadLog.headerSize)) }
        try io(path, "fsync") { () throws(Errno) in try descriptor.sync() }
        // An emptied log takes the current format's header (an older log becomes format 3).
        try io(path, "write") { () throws(Errno) in
            try withBytes(of: WriteAheadLog.headerBytes(baseSeq: baseSeq)) { raw throws(Errno) in try descriptor.writeAll(toAbsoluteOffset: 0, raw) }
        }
        try io(path, "fsync") { () throws(Errno) in try descriptor.sync() }
        sizeStorage.store(Int64(WriteAheadLog.headerSize), ordering: .releasing)
        preallocated = Int64(WriteAheadLog.headerSize)
    }

    /// Writes zeros from the reserve's end to at least `needed` bytes, growing the step with
    /// the log (256 KiB … 16 MiB), and fsyncs them (size and extents included). When a whole
    /// step does not fit on the disk, just `needed`: a nearly full disk still takes small writes.
    private func extend(toAtLeast needed: Int64) throws(StoreError) {
        let step = min(Int64(16 << 20), max(Int64(256 << 10), preallocated / 2))
        do throws(StoreError) { try extend(to: (needed + step - 1) / step * step) } catch {
            guard error.isOutOfSpace, needed < (needed + step - 1) / step * step else { throw error }
            try extend(to: needed)
        }
    }

    private func extend(to target: Int64) throws(StoreError) {
        let zeros = [UInt8](repeating: 0, count: Int(min(target - preallocated, 1 << 20)))
        var at = preallocated
        while at < target {
            let n = Int(min(Int64(zeros.count), target - at))
            try io(path, "write") { () throws(Errno) in
                try withBytes(of: zeros) { raw throws(Errno) in try descriptor.writeAll(toAbsoluteOffset: at, UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
            }
            at += Int64(n)
        }
        try io(path, "fsync") { () throws(Errno) in try descriptor.sync() }
        preallocated = target
    }
}
