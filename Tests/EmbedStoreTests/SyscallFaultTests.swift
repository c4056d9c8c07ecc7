@testable import EmbedStore
import EmbedSys
import Testing

/// The store's write and fsync paths under injected syscall results (`SyscallFaults`): a failed
/// fsync is never acknowledged and leaves a collection that reopens consistent; a full disk
/// during a checkpoint is a clear error that loses nothing; an interrupted call (`EINTR`) is
/// retried and the operation succeeds. (Log appends on a full disk: DiskFullTests.)
@Suite struct SyscallFaultTests {
    static let dim = 4
    static let eio = Errno(rawValue: 5)  // EIO

    static func vector(_ i: Int) -> [Float] { [Float(i), 2, Float(i % 7), -Float(i % 4)] }

    static func upsert(_ c: VectorCollection, _ range: Range<Int>) throws {
        for i in range { try c.upsert([Record(key: "k\(i)", vector: Self.vector(i))]) }
    }

    /// Every acknowledged record is there, with its vector.
    static func expectAll(_ c: VectorCollection, _ range: Range<Int>, _ label: String) throws {
        for i in range { #expect(try c.get("k\(i)")?.vector == Self.vector(i), "\(label): k\(i)") }
    }

    /// `pwrite` reached the file and `fdatasync` then failed with EIO: the writer hears an error,
    /// later writes are refused while reads go on, and after a reopen the collection is
    /// consistent — every acknowledged record, the unacknowledged one whole or not at all, the
    /// count agreeing — and takes writes again.
    @Test func aFailedLogFsyncIsNotAcknowledgedAndReopensConsistent() throws {
        let dir = TempDirectory("fsync-eio")
        defer { dir.cleanup(); SyscallFaults.clear(under: dir.path) }
        let (_, c) = try makeCollection(dir, "f", dim: Self.dim, metric: .l2)
        try Self.upsert(c, 0..<20)
        SyscallFaults.inject(Self.eio, on: "fdatasync", under: dir.path, count: 1, afterCall: true)
        var failed: StoreError?
        do throws(StoreError) { try c.upsert([Record(key: "unacked", vector: Self.vector(99))]) } catch { failed = error }
        #expect(failed != nil && failed?.isOutOfSpace == false, "\(String(describing: failed))")
        #expect("\(String(describing: failed))".contains("fdatasync"))
        #expect(c.writeFailureReason != nil)
        #expect(c.failureReason == nil)
        #expect(throws: StoreError.self) { try c.upsert([Record(key: "later", vector: Self.vector(98))]) }
        // Reads go on, and memory holds exactly the acknowledged writes.
        #expect(c.count == 20)
        #expect(try c.get("unacked") == nil)
        try Self.expectAll(c, 0..<20, "before reopen")
        #expect(try c.search(Self.vector(7), k: 1).first?.key == "k7")
        try c.close()  // no checkpoint: writes were refused

        let again = try StoreCatalog(directory: dir.path).open("f")
        try Self.expectAll(again, 0..<20, "after reopen")
        #expect(try again.get("later") == nil)
        let unacked = try again.get("unacked")
        #expect(unacked == nil || unacked?.vector == Self.vector(99), "all or nothing")
        #expect(again.count == 20 + (unacked == nil ? 0 : 1))
        #expect(again.writeFailureReason == nil)
        try Self.upsert(again, 20..<25)
        try again.checkpoint()
        try again.close()
        let third = try StoreCatalog(directory: dir.path).open("f")
        try Self.expectAll(third, 0..<25, "third open")
        try third.close()
    }

    /// The snapshot's fsync fails: the checkpoint says so, nothing else changes — the log still
    /// holds every write, writes go on — and a later checkpoint and a reopen have everything.
    @Test func aFailedSnapshotFsyncKeepsTheLog() throws {
        let dir = TempDirectory("snap-eio")
        let snap = dir.path + "/f/index.snap"
        defer { dir.cleanup(); SyscallFaults.clear(under: snap) }
        let (catalog, c) = try makeCollection(dir, "f", dim: Self.dim, metric: .l2)
        try Self.upsert(c, 0..<30)
        let walBefore = c.stats().walBytes
        SyscallFaults.inject(Self.eio, on: "fsync", under: snap, count: 1)
        var failed: StoreError?
        do throws(StoreError) { try c.checkpoint() } catch { failed = error }
        #expect("\(String(describing: failed))".contains("index.snap.tmp"), "\(String(describing: failed))")
        #expect(c.failureReason == nil && c.writeFailureReason == nil)
        #expect(c.stats().walBytes >= walBefore, "the log was not emptied")
        #expect(!FileSystem.exists(snap + ".tmp"))
        try Self.upsert(c, 30..<40)
        try catalog.close("f")  // checkpoints: the rule is spent
        let again = try StoreCatalog(directory: dir.path).open("f")
        #expect(again.count == 40)
        try Self.expectAll(again, 0..<40, "after reopen")
        try again.close()
    }

    /// The disk fills while a checkpoint writes its snapshot: a clear out-of-space error, the
    /// collection keeps serving and writing (to the log), and no earlier data is lost.
    @Test func aFullDiskDuringACheckpointLosesNothing() throws {
        let dir = TempDirectory("snap-enospc")
        let snap = dir.path + "/f/index.snap"
        defer { dir.cleanup(); SyscallFaults.clear(under: snap) }
        let (catalog, c) = try makeCollection(dir, "f", dim: Self.dim, metric: .l2)
        try Self.upsert(c, 0..<30)
        try c.checkpoint()
        try Self.upsert(c, 30..<50)
        SyscallFaults.inject(.noSpace, on: "write", under: snap)
        var failed: StoreError?
        do throws(StoreError) { try c.checkpoint() } catch { failed = error }
        #expect(failed?.isOutOfSpace == true, "\(String(describing: failed))")
        #expect("\(String(describing: failed))".contains("index.snap.tmp"))
        #expect(c.failureReason == nil && c.writeFailureReason == nil)
        try Self.upsert(c, 50..<55)
        try Self.expectAll(c, 0..<55, "while full")
        c.abandon()
        _ = catalog
        SyscallFaults.clear(under: snap)
        let again = try StoreCatalog(directory: dir.path).open("f")
        #expect(again.count == 55)
        try Self.expectAll(again, 0..<55, "after reopen")
        try again.checkpoint()
        try again.close()
    }

    /// Interrupted log appends, fsyncs and reads: each is retried (the retries are counted) and
    /// every operation succeeds, with nothing refused or lost.
    @Test func interruptedLogCallsAreRetried() throws {
        let dir = TempDirectory("eintr-log")
        defer { dir.cleanup(); SyscallFaults.clear(under: dir.path) }
        let (catalog, c) = try makeCollection(dir, "f", dim: Self.dim, metric: .l2)
        SyscallFaults.inject(.interrupted, on: "write", under: dir.path, count: 5)
        SyscallFaults.inject(.interrupted, on: "fdatasync", under: dir.path, count: 5)
        try Self.upsert(c, 0..<10)
        #expect(SyscallFaults.interruptsRetried(under: dir.path) == 10)
        #expect(c.writeFailureReason == nil && c.failureReason == nil)
        #expect(c.count == 10)
        c.abandon()
        _ = catalog
        SyscallFaults.inject(.interrupted, on: "open", under: dir.path, count: 1)
        SyscallFaults.inject(.interrupted, on: "read", under: dir.path, count: 2)
        let again = try StoreCatalog(directory: dir.path).open("f")
        #expect(SyscallFaults.interruptsRetried(under: dir.path) == 13)
        try Self.expectAll(again, 0..<10, "after reopen")
        again.abandon()
    }

    /// An interrupted checkpoint — snapshot create, writes, truncate, fsyncs, the log's reset —
    /// is retried call by call and completes.
    @Test func interruptedCheckpointCallsAreRetried() throws {
        let dir = TempDirectory("eintr-snap")
        defer { dir.cleanup(); SyscallFaults.clear(under: dir.path) }
        let (_, c) = try makeCollection(dir, "f", dim: Self.dim, metric: .l2)
        try Self.upsert(c, 0..<40)
        // A checkpoint makes 1 create, 8 writes (6 sections, the header, the log's header),
        // 2 truncations and 4 fsyncs (snapshot, directory, the log's reset twice).
        let counts = ["create": 1, "write": 3, "ftruncate": 2, "fsync": 3]
        for (op, n) in counts { SyscallFaults.inject(.interrupted, on: op, under: dir.path, count: n) }
        try c.checkpoint()
        #expect(SyscallFaults.interruptsRetried(under: dir.path) == 9)
        #expect(c.stats().checkpointSequence == 40)
        #expect(c.stats().walBytes == Int64(WriteAheadLog.headerSize), "the log was reset")
        try c.close()
        let again = try StoreCatalog(directory: dir.path).open("f")
        try Self.expectAll(again, 0..<40, "after reopen")
        try again.close()
    }
}
