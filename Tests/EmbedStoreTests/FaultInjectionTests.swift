@testable import EmbedStore
import EmbedSys
import Testing

/// Damaged files: recovery or a clear error naming the file — never a crash, never a
/// silently wrong answer.
@Suite struct FaultInjectionTests {
    static let dim = 8

    /// A collection with 200 checkpointed records and 60 more only in the log (one record per
    /// log entry, all new keys), returned as the expected key → vector map.
    static func build(_ dir: TempDirectory) throws -> [String: [Float]] {
        var gen = DataGen(seed: 77)
        let items = gen.random(n: 260, dim: dim)
        var expected: [String: [Float]] = [:]
        let catalog = try StoreCatalog(directory: dir.path)
        let c = try catalog.create("f", config: CollectionConfig(dimension: dim, metric: .l2))
        try c.upsert((0..<200).map { Record(key: "a\($0)", vector: items[$0], metadata: "{\"i\":\($0)}") })
        try c.waitForIndexing()
        try c.checkpoint()
        for i in 200..<260 { try c.upsert([Record(key: "a\(i)", vector: items[i], metadata: "{\"i\":\(i)}")]) }
        for i in 0..<260 { expected["a\(i)"] = items[i] }
        c.abandon()  // no final checkpoint: the log keeps its 60 records
        return expected
    }

    /// The log's records without the zero reserve the file is extended with.
    static func logicalLog(_ bytes: [UInt8]) -> [UInt8] {
        let end = bytes.withUnsafeBytes { raw -> Int in
            var offset = WriteAheadLog.headerSize
            while let (_, next) = WriteAheadLog.parseRecord(raw, at: offset) { offset = next }
            return offset
        }
        return Array(bytes[..<end])
    }

    static func write(_ path: String, _ bytes: [UInt8]) throws {
        let fd = try FileDescriptor.open(path, [.writeOnly, .create, .truncate])
        defer { try? fd.close() }
        try fd.writeAll(bytes)
    }

    static func copyTree(_ from: String, _ to: String) throws {
        try FileSystem.makeDirectories(to)
        for name in try FileSystem.contentsOfDirectory(from) {
            if FileSystem.isDirectory(from + "/" + name) { try copyTree(from + "/" + name, to + "/" + name) }
            else { try write(to + "/" + name, try FileSystem.readFile(from + "/" + name)) }
        }
    }

    /// Opens and checks: either a StoreError (returned), or every key exact — except keys
    /// from the log's tail when a cut was logged, which may be absent.
    static func openAndCheck(_ path: String, expected: [String: [Float]], verification: OpenOptions.Verification = .full,
                             strict: Bool = true) -> StoreError? {
        let logs = LogCollector()
        do throws(StoreError) {
            let catalog = try StoreCatalog(directory: path, options: OpenOptions(verification: verification), logger: logs.logger)
            let c = try catalog.open("f")
            let cut = logs.contains(.warning, "torn or corrupt tail")
            for (key, v) in expected {
                let r = try c.get(key)
                if strict {
                    if r == nil && cut && Int(key.dropFirst())! >= 200 { continue }
                    #expect(r?.vector == v, "\(key) wrong after recovery (cut: \(cut))")
                    #expect(r?.metadata == "{\"i\":\(key.dropFirst())}")
                }
            }
            for v in expected.values.prefix(5) { _ = try c.search(v, k: 3) }
            c.abandon()
            return nil
        } catch {
            return error
        }
    }

    @Test func tornLogTailIsCutWithALogLine() throws {
        let dir = TempDirectory("torn")
        defer { dir.cleanup() }
        let expected = try FaultInjectionTests.build(dir)
        let wal = dir.path + "/f/wal.log"
        var bytes = FaultInjectionTests.logicalLog(try FileSystem.readFile(wal))
        bytes.removeLast(7)  // a record half-written when the power went
        try FaultInjectionTests.write(wal, bytes + [0x57, 0x41, 0x4C])
        let logs = LogCollector()
        let catalog = try StoreCatalog(directory: dir.path, logger: logs.logger)
        let c = try catalog.open("f")
        #expect(logs.contains(.warning, "wal.log: cut torn or corrupt tail"))
        #expect(c.count == 259)
        #expect(try c.get("a259") == nil)
        #expect(try c.get("a258")?.vector == expected["a258"])
        try c.upsert([Record(key: "after", vector: expected["a1"]!)])  // the log is usable again
        try catalog.closeAll()
        #expect(try StoreCatalog(directory: dir.path).open("f").get("after") != nil)
    }

    @Test func zeroReserveAfterTheLogIsNotDamage() throws {
        let dir = TempDirectory("reserve")
        defer { dir.cleanup() }
        let expected = try FaultInjectionTests.build(dir)
        let wal = dir.path + "/f/wal.log"
        let bytes = try FileSystem.readFile(wal)
        let logical = FaultInjectionTests.logicalLog(bytes)
        #expect(bytes.count >= 256 << 10 && bytes.count > logical.count, "the log is extended ahead of its records")
        #expect(bytes[logical.count...].allSatisfy { $0 == 0 })
        let logs = LogCollector()
        let catalog = try StoreCatalog(directory: dir.path, logger: logs.logger)
        let c = try catalog.open("f")
        #expect(!logs.contains(.warning, "torn or corrupt tail"))
        #expect(c.count == expected.count)
        try c.upsert([Record(key: "after", vector: expected["a1"]!)])
        #expect(try FileSystem.readFile(wal).count == bytes.count, "appends go into the reserve")
        c.abandon()
        #expect(try StoreCatalog(directory: dir.path).open("f").get("after")?.vector == expected["a1"])
    }

    @Test func damagedLogRecordFollowedByValidOnesIsAnError() throws {
        let dir = TempDirectory("walmid")
        defer { dir.cleanup() }
        let expected = try FaultInjectionTests.build(dir)
        let wal = dir.path + "/f/wal.log"
        var bytes = try FileSystem.readFile(wal)
        bytes[WriteAheadLog.headerSize + 40] ^= 0x10  // inside the first record's payload
        try FaultInjectionTests.write(wal, bytes)
        let error = FaultInjectionTests.openAndCheck(dir.path, expected: expected)
        guard case .corrupt(let file, let detail)? = error else { Issue.record("expected corrupt, got \(String(describing: error))"); return }
        #expect(file.hasSuffix("/f/wal.log"))
        #expect(detail.contains("followed by valid records"))
    }

    @Test func truncatedOrFlippedSnapshotNamesTheFile() throws {
        let dir = TempDirectory("snap")
        defer { dir.cleanup() }
        let expected = try FaultInjectionTests.build(dir)
        let snap = dir.path + "/f/index.snap"
        let original = try FileSystem.readFile(snap)
        for damage in ["truncate-half", "truncate-header", "flip-header", "flip-nodes", "flip-heap"] {
            var bytes = original
            switch damage {
            case "truncate-half": bytes.removeLast(bytes.count / 2)
            case "truncate-header": bytes.removeLast(bytes.count - 100)
            case "flip-header": bytes[40] ^= 1
            case "flip-nodes": bytes[4096 + 300] ^= 0x40
            default: bytes[bytes.count - 4096 * 3 + 5] ^= 0x01
            }
            try FaultInjectionTests.write(snap, bytes)
            let error = FaultInjectionTests.openAndCheck(dir.path, expected: expected)
            guard case .corrupt(let file, _)? = error else { Issue.record("\(damage): expected corrupt, got \(String(describing: error))"); continue }
            #expect(file.hasSuffix("/f/index.snap"), "\(damage)")
        }
        // Background verification: open is immediate, and the damage is reported soon after.
        var bytes = original
        bytes[4096 + 300] ^= 0x40
        try FaultInjectionTests.write(snap, bytes)
        let catalog = try StoreCatalog(directory: dir.path, options: OpenOptions(verification: .background))
        let c = try catalog.open("f")
        var failed = false
        for _ in 0..<200 where !failed {
            do { _ = try c.search(expected["a0"]!, k: 1) } catch { failed = true }
            ChildProcess.sleep(seconds: 0.01)
        }
        #expect(failed, "background verification should fail the collection")
        c.abandon()
        // Intact again: opens with every record.
        try FaultInjectionTests.write(snap, original)
        #expect(FaultInjectionTests.openAndCheck(dir.path, expected: expected) == nil)
    }

    @Test func damagedMetaNamesTheFile() throws {
        let dir = TempDirectory("meta")
        defer { dir.cleanup() }
        let expected = try FaultInjectionTests.build(dir)
        let meta = dir.path + "/f/collection.meta"
        var bytes = try FileSystem.readFile(meta)
        bytes[13] ^= 0x02
        try FaultInjectionTests.write(meta, bytes)
        let error = FaultInjectionTests.openAndCheck(dir.path, expected: expected)
        guard case .corrupt(let file, _)? = error else { Issue.record("expected corrupt, got \(String(describing: error))"); return }
        #expect(file.hasSuffix("/f/collection.meta"))
    }

    /// Random flips and truncations in every file: each open either fails with a StoreError or
    /// yields exactly the right data; with verification off it must at least not crash.
    /// Node levels and upper-link offsets are not covered by header checks: with damaged ones
    /// and verification off, repair, relinking, entry-point choice and compaction must stay
    /// inside memory (they once wrote out of bounds or reserved terabytes), and every record
    /// stays readable by key.
    @Test func damagedNodeLevelsDoNotCrashMaintenance() throws {
        let dir = TempDirectory("levels")
        defer { dir.cleanup() }
        let expected = try FaultInjectionTests.build(dir)
        let path = dir.path + "/f/index.snap"
        var bytes = try FileSystem.readFile(path)
        func u64(_ at: Int) -> Int { (0..<8).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        func put32(_ at: Int, _ v: UInt32) { for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
        let nodesOffset = u64(128 + 8), nodesLength = u64(128 + 16)  // section 1 of the table at byte 128
        let stride = nodesLength / 200
        put32(nodesOffset + 5 * stride, 0x7FFF_FFF0)                                        // level of node 5
        put32(nodesOffset + 7 * stride, 2); put32(nodesOffset + 7 * stride + 8, 0xFFFF_FF00)  // node 7: level 2, upper offset far out
        put32(nodesOffset + 9 * stride, UInt32(bitPattern: -7))                              // a negative level
        try FaultInjectionTests.write(path, bytes)
        let catalog = try StoreCatalog(directory: dir.path, options: OpenOptions(verification: .headerOnly))
        let c = try catalog.open("f")
        let gone = (0..<260).filter { $0 % 3 == 0 }.map { "a\($0)" }
        #expect(try c.delete(gone) == gone.count)
        try c.waitForIndexing()  // repair of the deleted nodes, reachability relinking
        try c.optimize()         // compaction: renumbering, upper layers rebuilt
        for (key, v) in expected where !gone.contains(key) { #expect(try c.get(key)?.vector == v, "\(key)") }
        for v in expected.values.prefix(20) { #expect(try c.search(v, k: 3).count == 3) }
        try c.close()
    }

    /// With background verification, a checkpoint right after open waits for the verifier: it
    /// must not copy damage the verifier has not reported yet into a new snapshot with fresh
    /// checksums (which would make the damage permanent and invisible).
    @Test func checkpointWaitsForBackgroundVerification() throws {
        let dir = TempDirectory("verifywait")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 9)
        let items = gen.random(n: 20_000, dim: 8)
        do {
            let (catalog, c) = try makeCollection(dir, "f", dim: 8, metric: .l2)
            try upsertAll(c, items, batch: 5000)
            try c.waitForIndexing()
            try catalog.close("f")
        }
        let path = dir.path + "/f/index.snap"
        var bytes = try FileSystem.readFile(path)
        let nodesOffset = (0..<8).reduce(0) { $0 | Int(bytes[128 + 8 + $1]) << (8 * $1) }
        let nodesLength = (0..<8).reduce(0) { $0 | Int(bytes[128 + 16 + $1]) << (8 * $1) }
        bytes[nodesOffset + nodesLength - 100] ^= 0x40  // a vector byte of the last node
        try FaultInjectionTests.write(path, bytes)
        let c = try StoreCatalog(directory: dir.path, options: OpenOptions(verification: .background)).open("f")
        #expect(throws: StoreError.self) { try c.checkpoint() }
        c.abandon()
        // The damaged file was not replaced by a "clean" copy: a full verification still finds it.
        #expect(throws: StoreError.self) { try StoreCatalog(directory: dir.path, options: OpenOptions(verification: .full)).open("f") }
    }

    /// Power loss during a group commit can persist a later sector of its one `pwrite` and not
    /// an earlier one, which then still reads as the zero reserve. Nothing of that group was
    /// acknowledged, so recovery cuts it — the damaged record and the rest of its group — and
    /// keeps every earlier group. Still errors: damage to an earlier (acknowledged) group
    /// followed by later groups; damage without a zeroed sector (bit rot, not a torn write);
    /// any such damage in a format-1 log, whose records do not say which group they belong to.
    @Test func tornGroupCommitIsCutOnlyWhenItIsTheLastGroup() throws {
        let dir = TempDirectory("torngroup")
        defer { dir.cleanup() }
        let expected = try FaultInjectionTests.build(dir)  // 60 one-record groups in the log
        let walPath = dir.path + "/f/wal.log"
        let original = try FileSystem.readFile(walPath)
        let logical = FaultInjectionTests.logicalLog(original)
        var records: [(offset: Int, seq: UInt64)] = []
        logical.withUnsafeBytes { raw in
            var offset = WriteAheadLog.headerSize
            while let (e, next) = WriteAheadLog.parseRecord(raw, at: offset) { records.append((offset, e.seq)); offset = next }
        }
        #expect(records.count == 60)
        // A last group of three upserts (g0, g1, g2) written with one pwrite.
        var w = ByteWriter()
        var groupOffsets: [Int] = []
        for i in 0..<3 {
            var p = ByteWriter()
            // ~1.5 KB per record, so each spans whole 512-byte sectors.
            let meta = "{\"pad\":\"" + String(repeating: "p", count: 1500) + "\"}"
            p.u32(1); p.blob(Array("g\(i)".utf8)); p.blob(Array(meta.utf8)); p.f32s([Float](repeating: Float(i), count: FaultInjectionTests.dim))
            groupOffsets.append(logical.count + w.bytes.count)
            WriteAheadLog.frame(seq: records.last!.seq + 1 + UInt64(i), type: .upsert, payload: p.bytes, indexInGroup: i, into: &w)
        }
        let withGroup = logical + w.bytes + [UInt8](repeating: 0, count: 4096)
        func attempt(_ label: String, damageAt: Int, torn: Bool = true, version: UInt32 = WriteAheadLog.version) throws -> (StoreError?, LogCollector, VectorCollection?) {
            let copy = dir.path + "/" + label
            try FaultInjectionTests.copyTree(dir.path + "/f", copy + "/f")
            var bytes = withGroup
            if torn {  // the first whole sector inside the record never reached the disk
                let sector = (damageAt + WriteAheadLog.recordHeaderSize + 511) / 512 * 512
                for i in sector..<(sector + 512) { bytes[i] = 0 }
            } else {   // one flipped payload byte
                bytes[damageAt + WriteAheadLog.recordHeaderSize + 1] ^= 0x10
            }
            if version != WriteAheadLog.version {  // rewrite the header as format 1
                var h = ByteWriter()
                h.raw(WriteAheadLog.magic); h.u32(version); h.u32(0); h.u32(CRC32C.checksum(h.bytes)); h.pad(to: WriteAheadLog.headerSize)
                bytes.replaceSubrange(0..<WriteAheadLog.headerSize, with: h.bytes)
            }
            try FaultInjectionTests.write(copy + "/f/wal.log", bytes)
            let logs = LogCollector()
            do throws(StoreError) {
                return (nil, logs, try StoreCatalog(directory: copy, logger: logs.logger).open("f"))
            } catch { return (error, logs, nil) }
        }
        // The middle and the first record of the last group: cut, every acknowledged record kept.
        for (label, at, survivors) in [("mid", groupOffsets[1], ["g0"]), ("first", groupOffsets[0], [String]())] {
            let (error, logs, c) = try attempt(label, damageAt: at)
            #expect(error == nil, "\(label): \(String(describing: error))")
            guard let c else { continue }
            #expect(logs.contains(.warning, "cut a torn group commit"), "\(label)")
            for (key, v) in expected { #expect(try c.get(key)?.vector == v, "\(label): \(key)") }
            for i in 0..<3 { #expect((try c.get("g\(i)") != nil) == survivors.contains("g\(i)"), "\(label): g\(i)") }
            c.abandon()
        }
        // A damaged earlier group, later groups intact: acknowledged data is gone, refuse.
        let (earlier, _, _) = try attempt("earlier", damageAt: records[30].offset, torn: false)
        #expect(earlier.map { "\($0)".contains("not the torn end of the last group commit") } == true, "\(String(describing: earlier))")
        // A flipped byte in the last group (no zeroed sector): bit rot, not a torn write — an error.
        let (rot, _, _) = try attempt("rot", damageAt: groupOffsets[1], torn: false)
        #expect(rot.map { "\($0)".contains("not the torn end of the last group commit") } == true, "\(String(describing: rot))")
        // Format 1 cannot tell groups apart: the same torn last group is an error there.
        let (v1, _, _) = try attempt("v1", damageAt: groupOffsets[1], version: 1)
        #expect(v1 != nil)
        _ = original
    }

    /// A snapshot header whose checksum matches but whose counts are absurd (a crafted file)
    /// is refused naming the file — no trap in a conversion or a product.
    @Test func craftedSnapshotHeaderCountsAreRefused() throws {
        let dir = TempDirectory("crafted")
        defer { dir.cleanup() }
        _ = try FaultInjectionTests.build(dir)
        let original = try FileSystem.readFile(dir.path + "/f/index.snap")
        for (field, value) in [(40, UInt64.max), (40, UInt64(1) << 62), (48, UInt64.max), (88, UInt64.max >> 1), (112, UInt64.max)] {
            var bytes = original
            for i in 0..<8 { bytes[field + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<SnapshotFile.headerCRCOffset])) }
            for i in 0..<4 { bytes[SnapshotFile.headerCRCOffset + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
            try FaultInjectionTests.write(dir.path + "/f/index.snap", bytes)
            #expect(throws: StoreError.self, "field at \(field) = \(value)") {
                try StoreCatalog(directory: dir.path, options: OpenOptions(verification: .headerOnly)).open("f")
            }
        }
    }

    /// A checkpoint that cannot write its snapshot (here: a directory in the way of
    /// index.snap.tmp, as a full disk would fail it) changes nothing: the collection keeps
    /// serving reads and writes from the log, background checkpoints retry, and a later
    /// checkpoint succeeds once the obstacle is gone.
    @Test func aSnapshotThatCannotBeWrittenDoesNotFailTheCollection() throws {
        let dir = TempDirectory("nospace")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 13)
        let items = gen.random(n: 400, dim: 8)
        let logs = LogCollector()
        let (catalog, c) = try makeCollection(dir, "f", dim: 8, metric: .l2, options: OpenOptions(checkpointLogBytes: 4096), logger: logs.logger)
        try FileSystem.makeDirectory(dir.path + "/f/index.snap.tmp", existOK: false)
        #expect(throws: StoreError.self) { try c.checkpoint() }
        // Past the log limit: the background thread tries to checkpoint and fails; the
        // collection stays usable.
        try upsertAll(c, items, batch: 50)
        try c.waitForIndexing()
        let deadline = ContinuousClock.now + .seconds(10)
        while !logs.contains(.error, "checkpoint failed, still serving") && ContinuousClock.now < deadline {
            ChildProcess.sleep(seconds: 0.02)
        }
        #expect(logs.contains(.error, "checkpoint failed, still serving"))
        #expect(c.count == 400)
        try c.upsert([Record(key: "after", vector: items[0])])
        #expect(try c.get("after")?.vector == items[0])
        #expect(try c.search(items[7], k: 1).first?.key == "7")
        try FileSystem.removeDirectory(dir.path + "/f/index.snap.tmp")
        try c.checkpoint()
        try catalog.close("f")
        let again = try StoreCatalog(directory: dir.path).open("f")
        #expect(again.count == 401)
        try again.close()
    }

    @Test func randomDamageNeverCrashesOrLies() throws {
        let dir = TempDirectory("fuzz")
        defer { dir.cleanup() }
        let expected = try FaultInjectionTests.build(dir)
        var gen = DataGen(seed: 2024)
        let files = ["wal.log", "index.snap", "collection.meta"]
        var errors = 0, recovered = 0
        for round in 0..<60 {
            let copy = dir.path + "/copy\(round)"
            try FaultInjectionTests.copyTree(dir.path + "/f", copy + "/f")
            let file = copy + "/f/" + files[Int(gen.next() % 3)]
            var bytes = try FileSystem.readFile(file)
            if gen.next() % 4 == 0 {
                bytes.removeLast(Int(gen.next() % UInt64(bytes.count)))
            } else {
                for _ in 0...(gen.next() % 3) { bytes[Int(gen.next() % UInt64(bytes.count))] ^= UInt8(1 << (gen.next() % 8)) }
            }
            try FaultInjectionTests.write(file, bytes)
            let headerOnly = round % 5 == 4
            if FaultInjectionTests.openAndCheck(copy, expected: expected, verification: headerOnly ? .headerOnly : .full,
                                                strict: !headerOnly) == nil { recovered += 1 } else { errors += 1 }
            StoreCatalog.removeTree(copy)
        }
        #expect(errors > 0 && recovered > 0, "errors \(errors), recovered \(recovered)")
    }
}
