@testable import EmbedStore
import EmbedSys
import Synchronization
import Testing

/// A full disk refuses writes — with an error that says so — and nothing else: reads go on,
/// acknowledged data stays intact, a write that failed never reappears, and writes work
/// again once space is back, without reopening.
@Suite struct DiskFullTests {
    static let dim = 4

    static func vector(_ i: Int) -> [Float] { [Float(i), 1, Float(i % 5), -Float(i % 3)] }

    static func isOutOfSpace(_ body: () throws -> Void) -> Bool {
        do { try body() } catch let e as StoreError { return e.isOutOfSpace } catch { return false }
        return false
    }

    @Test func aFullDiskRefusesWritesButKeepsReadsAndRecovers() throws {
        let dir = TempDirectory("enospc")
        defer { dir.cleanup(); SyscallFaults.clear(under: dir.path) }
        let (catalog, c) = try makeCollection(dir, "f", dim: Self.dim, metric: .l2)
        for i in 0..<100 { try c.upsert([Record(key: "k\(i)", vector: Self.vector(i))]) }
        SyscallFaults.inject(.noSpace, on: "write", under: dir.path)
        #expect(Self.isOutOfSpace { try c.upsert([Record(key: "lost", vector: Self.vector(500))]) })
        #expect(Self.isOutOfSpace { try c.delete(["k1"]) })
        #expect(c.failureReason == nil)
        // Reads are untouched.
        #expect(c.count == 100)
        #expect(try c.get("k7")?.vector == Self.vector(7))
        #expect(try c.search(Self.vector(42), k: 1).first?.key == "k42")
        // Space is back: the next write succeeds without a reopen, and continues the sequence.
        SyscallFaults.clear(under: dir.path)
        try c.upsert([Record(key: "after", vector: Self.vector(501))])
        #expect(c.stats().lastSequence == 101, "failed writes leave no hole in the log's sequence")
        #expect(try c.delete(["k1"]) == 1)
        c.abandon()
        _ = catalog
        let again = try StoreCatalog(directory: dir.path).open("f")
        #expect(again.count == 100)
        #expect(try again.get("lost") == nil)
        #expect(try again.get("k1") == nil)
        #expect(try again.get("after")?.vector == Self.vector(501))
        again.abandon()
    }

    /// A create that fails part-way (here the full disk refuses the collection's files) leaves
    /// no `.creating-NAME` directory behind, and the same name can be created once space is back.
    @Test func aFailedCreateLeavesNothingBehind() throws {
        let dir = TempDirectory("create-enospc")
        defer { dir.cleanup(); SyscallFaults.clear(under: dir.path) }
        let catalog = try StoreCatalog(directory: dir.path)
        SyscallFaults.inject(.noSpace, on: "write", under: dir.path)
        #expect(Self.isOutOfSpace { _ = try catalog.create("c", config: CollectionConfig(dimension: Self.dim, metric: .l2)) })
        let left = try FileSystem.contentsOfDirectory(dir.path)
        #expect(!left.contains { $0.hasPrefix(".creating-") }, "left behind: \(left)")
        SyscallFaults.clear(under: dir.path)
        let c = try catalog.create("c", config: CollectionConfig(dimension: Self.dim, metric: .l2))
        try c.upsert([Record(key: "k", vector: Self.vector(1))])
        #expect(c.count == 1)
        c.abandon()
    }

    /// `pwrite` put the record into the file, then `fdatasync` failed: the caller was told the
    /// write failed, so the record must not come back at the next open — neither alone nor
    /// behind a shorter record written over its start.
    @Test func aFailedLogAppendIsCutBackNotReplayed() throws {
        let dir = TempDirectory("cutback")
        defer { dir.cleanup(); SyscallFaults.clear(under: dir.path) }
        let (_, c) = try makeCollection(dir, "f", dim: Self.dim, metric: .l2)
        for i in 0..<10 { try c.upsert([Record(key: "k\(i)", vector: Self.vector(i))]) }
        let big = "{\"pad\":\"" + String(repeating: "x", count: 3000) + "\"}"
        SyscallFaults.inject(.noSpace, on: "fdatasync", under: dir.path, count: 1)
        #expect(Self.isOutOfSpace { try c.upsert([Record(key: "ghost", vector: Self.vector(99), metadata: big)]) })
        #expect(try c.get("ghost") == nil)
        try c.upsert([Record(key: "small", vector: Self.vector(100))])
        SyscallFaults.inject(.noSpace, on: "fdatasync", under: dir.path, count: 1)
        #expect(Self.isOutOfSpace { try c.upsert([Record(key: "ghost2", vector: Self.vector(98), metadata: big)]) })
        c.abandon()
        let logs = LogCollector()
        let again = try StoreCatalog(directory: dir.path, logger: logs.logger).open("f")
        #expect(try again.get("ghost") == nil)
        #expect(try again.get("ghost2") == nil)
        #expect(try again.get("small")?.vector == Self.vector(100))
        #expect(again.count == 11)
        #expect(!logs.contains(.warning, "torn or corrupt tail"), "the failed records were cut when they failed, not left for recovery")
        again.abandon()
    }

    /// Writers that share a failed group commit all hear the error; those queued behind it
    /// still commit once space is back, and exactly the acknowledged writes survive a reopen.
    @Test func concurrentWritersAcrossAFullDisk() throws {
        let dir = TempDirectory("enospcmany")
        defer { dir.cleanup(); SyscallFaults.clear(under: dir.path) }
        let (_, c) = try makeCollection(dir, "f", dim: Self.dim, metric: .l2)
        final class Outcomes: Sendable {
            let acked = Mutex<Set<String>>([])
            let otherErrors = Mutex<[String]>([])
            let armed = Atomic<Bool>(false)
        }
        let out = Outcomes()
        let path = dir.path
        var threads: [OSThread] = []
        for t in 0..<4 {
            threads.append(try OSThread {
                for i in 0..<150 {
                    if t == 0 && i == 40 { SyscallFaults.inject(.noSpace, on: "write", under: path); out.armed.store(true, ordering: .relaxed) }
                    if t == 0 && i == 90 { SyscallFaults.clear(under: path) }
                    let key = "t\(t)-\(i)"
                    do throws(StoreError) {
                        try c.upsert([Record(key: key, vector: Self.vector(t * 1000 + i))])
                        out.acked.withLock { _ = $0.insert(key) }
                    } catch {
                        if !error.isOutOfSpace { out.otherErrors.withLock { $0.append("\(key): \(error)") } }
                    }
                }
            })
        }
        for t in threads { t.join() }
        let otherErrors = out.otherErrors.withLock { $0 }
        let armed = out.armed.load(ordering: .relaxed)
        #expect(armed)
        #expect(otherErrors.isEmpty, "\(otherErrors.prefix(3))")
        let keys = out.acked.withLock { $0 }
        #expect(keys.count < 600 && keys.count > 0)
        #expect(c.count == keys.count)
        #expect(c.stats().lastSequence == UInt64(keys.count))
        c.abandon()
        let again = try StoreCatalog(directory: dir.path).open("f")
        #expect(again.count == keys.count)
        for t in 0..<4 {
            for i in 0..<150 { #expect((try again.get("t\(t)-\(i)") != nil) == keys.contains("t\(t)-\(i)"), "t\(t)-\(i)") }
        }
        again.abandon()
    }

    /// A real full disk: a small tmpfs (skipped where mounting is not permitted).
    @Test(.enabled(if: Tmpfs.canMount, "needs permission to mount a tmpfs"))
    func aRealFullTmpfs() throws {
        let dir = TempDirectory("tmpfs")
        defer { dir.cleanup() }
        let root = dir.path + "/mnt"
        try FileSystem.makeDirectory(root, existOK: false)
        try #require(Tmpfs.mount(root, bytes: 4 << 20))
        defer { Tmpfs.unmount(root) }
        let catalog = try StoreCatalog(directory: root)
        let c = try catalog.create("f", config: CollectionConfig(dimension: 64, metric: .l2))
        let v = (0..<64).map(Float.init)
        for i in 0..<50 { try c.upsert([Record(key: "k\(i)", vector: v.map { $0 + Float(i) })]) }
        // Fill the rest of the disk with a file we can delete later.
        let filler = try FileDescriptor.open(root + "/filler", [.writeOnly, .create, .truncate])
        let chunk = [UInt8](repeating: 7, count: 64 << 10)
        while (try? filler.writeAll(chunk)) != nil {}
        try filler.close()
        var acked = 50
        var refused: StoreError?
        for i in 50..<20_000 {
            do throws(StoreError) {
                try c.upsert([Record(key: "k\(i)", vector: v.map { $0 + Float(i) })])
                acked += 1
            } catch {
                refused = error
                break
            }
        }
        #expect(refused?.isOutOfSpace == true, "\(String(describing: refused))")
        #expect(c.failureReason == nil)
        #expect(c.count == acked)
        #expect(try c.get("k\(acked - 1)") != nil)
        #expect(try c.search(v, k: 1).first?.key == "k0")
        try FileSystem.unlink(root + "/filler")
        try c.upsert([Record(key: "after", vector: v)])
        try catalog.close("f")
        let again = try StoreCatalog(directory: root).open("f")
        #expect(again.count == acked + 1)
        #expect(try again.get("after")?.vector == v)
        try again.close()
    }
}

/// Mounting a small tmpfs for tests that need a genuinely full file system (root only).
enum Tmpfs {
    static let canMount: Bool = {
        let probe = "/tmp/embedstore-tmpfs-probe-\(Environment.processID)"
        try? FileSystem.makeDirectories(probe)
        defer { try? FileSystem.removeDirectory(probe) }
        guard mount(probe, bytes: 1 << 20) else { return false }
        unmount(probe)
        return true
    }()

    static func mount(_ path: String, bytes: Int) -> Bool {
        run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", path])
    }

    static func unmount(_ path: String) { _ = run("/bin/umount", ["-l", path]) }

    private static func run(_ program: String, _ arguments: [String]) -> Bool {
        guard let p = try? ChildProcess.spawn(program, arguments: arguments, outputPath: "/dev/null") else { return false }
        return (try? p.wait()) == .exited(0)
    }
}
