@testable import EmbedStore
import EmbedSys
import Testing

/// The snapshot and the log must together cover every sequence number from 1 on: a log that
/// starts after what the snapshot covers (the snapshot deleted, or an older copy restored)
/// means acknowledged writes are in neither file, and opening must refuse instead of serving
/// — and at the next checkpoint making permanent — a fraction of the data.
@Suite struct LogCoverageTests {
    static let dim = 4

    static func vector(_ i: Int) -> [Float] { [Float(i), Float(i % 7), 1, Float(i % 3)] }

    /// Upsert calls `from..<to`, 50 records each (call n writes keys "n-0" … "n-49").
    static func calls(_ c: VectorCollection, _ range: Range<Int>) throws {
        for n in range {
            try c.upsert((0..<50).map { Record(key: "\(n)-\($0)", vector: vector(n * 50 + $0)) })
        }
    }

    /// The issue's layout: a snapshot at sequence 40 (2,000 records) and the log holding
    /// sequences 41–52 (600 more). `keepSnapshotAt20` returns a copy of the snapshot as it was
    /// at sequence 20.
    static func build(_ dir: TempDirectory) throws -> [UInt8] {
        let catalog = try StoreCatalog(directory: dir.path)
        let c = try catalog.create("f", config: CollectionConfig(dimension: dim, metric: .l2))
        try calls(c, 0..<20)
        try c.checkpoint()
        let at20 = try FileSystem.readFile(dir.path + "/f/index.snap")
        try calls(c, 20..<40)
        try c.checkpoint()
        try calls(c, 40..<52)
        #expect(c.stats().lastSequence == 52 && c.stats().checkpointSequence == 40)
        c.abandon()  // no final checkpoint: the log keeps sequences 41–52
        return at20
    }

    static func open(_ dir: TempDirectory) -> Result<VectorCollection, StoreError> {
        do throws(StoreError) {
            return .success(try StoreCatalog(directory: dir.path).open("f"))
        } catch { return .failure(error) }
    }

    static func expectRefused(_ r: Result<VectorCollection, StoreError>, mentioning: String, _ label: String) {
        switch r {
        case .success(let c):
            Issue.record("\(label): opened with \(c.count) records instead of refusing")
            c.abandon()
        case .failure(.corrupt(let file, let detail)):
            #expect(file.hasSuffix("/f/index.snap"), "\(label): \(file)")
            #expect(detail.contains(mentioning), "\(label): \(detail)")
        case .failure(let e):
            Issue.record("\(label): expected corrupt naming index.snap, got \(e)")
        }
    }

    @Test func aDeletedSnapshotIsRefusedNotReplayedFromZero() throws {
        let dir = TempDirectory("nosnap")
        defer { dir.cleanup() }
        _ = try Self.build(dir)
        let walBefore = try FileSystem.readFile(dir.path + "/f/wal.log")
        try FileSystem.unlink(dir.path + "/f/index.snap")
        Self.expectRefused(Self.open(dir), mentioning: "40", "snapshot deleted, log 41–52")
        // Refusing changed nothing: restoring the snapshot is still possible.
        #expect(try FileSystem.readFile(dir.path + "/f/wal.log") == walBefore)
    }

    /// After a clean close the log is empty: only the header can say what it continues from.
    @Test func aDeletedSnapshotBehindAnEmptyLogIsRefused() throws {
        let dir = TempDirectory("nosnapempty")
        defer { dir.cleanup() }
        do {
            let catalog = try StoreCatalog(directory: dir.path)
            let c = try catalog.create("f", config: CollectionConfig(dimension: Self.dim, metric: .l2))
            try Self.calls(c, 0..<10)
            try catalog.close("f")  // checkpoints: the log is emptied after sequence 10
        }
        try FileSystem.unlink(dir.path + "/f/index.snap")
        Self.expectRefused(Self.open(dir), mentioning: "10", "snapshot deleted, empty log")
    }

    @Test func anOlderSnapshotRestoredOverANewerOneIsRefused() throws {
        let dir = TempDirectory("oldsnap")
        defer { dir.cleanup() }
        let at20 = try Self.build(dir)
        try FaultInjectionTests.write(dir.path + "/f/index.snap", at20)
        Self.expectRefused(Self.open(dir), mentioning: "20", "snapshot at 20, log after 40")
    }

    /// No false alarms: a log that still holds records the snapshot covers (a crash between
    /// the snapshot's rename and the log's truncation), and a log written before the header
    /// recorded where it starts.
    @Test func overlapsAndOldLogsStillOpen() throws {
        let dir = TempDirectory("overlap")
        defer { dir.cleanup() }
        _ = try Self.build(dir)
        let wal = dir.path + "/f/wal.log"
        let log41to52 = try FileSystem.readFile(wal)
        do {
            let c = try StoreCatalog(directory: dir.path).open("f")
            #expect(c.count == 2600)
            try c.checkpoint()  // snapshot at 52, log emptied
            c.abandon()
        }
        try FaultInjectionTests.write(wal, log41to52)  // as if the truncation never happened
        var c = try StoreCatalog(directory: dir.path).open("f")
        #expect(c.count == 2600 && c.stats().lastSequence == 52)
        try Self.calls(c, 52..<53)
        c.abandon()
        c = try StoreCatalog(directory: dir.path).open("f")
        #expect(c.count == 2650 && c.stats().lastSequence == 53)
        c.abandon()

        // A format-2 header (no starting point): the first record's sequence decides.
        let dir2 = TempDirectory("v2log")
        defer { dir2.cleanup() }
        _ = try Self.build(dir2)
        let wal2 = dir2.path + "/f/wal.log"
        var bytes = try FileSystem.readFile(wal2)
        var h = ByteWriter()
        h.raw(WriteAheadLog.magic); h.u32(2); h.u32(0); h.u32(CRC32C.checksum(h.bytes)); h.pad(to: WriteAheadLog.headerSize)
        bytes.replaceSubrange(0..<WriteAheadLog.headerSize, with: h.bytes)
        try FaultInjectionTests.write(wal2, bytes)
        c = try StoreCatalog(directory: dir2.path).open("f")
        #expect(c.count == 2600)
        c.abandon()
        try FileSystem.unlink(dir2.path + "/f/index.snap")
        Self.expectRefused(Self.open(dir2), mentioning: "41", "format-2 log 41–52 without its snapshot")
    }
}
