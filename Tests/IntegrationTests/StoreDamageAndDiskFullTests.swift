import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// The store fails closed and says why, over the real socket: a collection whose files do not
/// cover its history answers DATA_LOSS naming the missing file, damage is logged once and
/// shown by Describe/Stats/List, and a full disk refuses writes with RESOURCE_EXHAUSTED while
/// reads go on.
@Suite(.serialized) struct StoreDamageAndDiskFullTests {
    static func collectionDirectory(_ d: RestartableDaemon, _ name: String) -> String { d.directory + "/data/collections/" + name }

    static func items(_ call: Int, per: Int = 50, dim: Int = 4) -> [UpsertItem] {
        (0..<per).map { i in .vector("\(call)-\(i)", (0..<dim).map { Float(call * per + i + $0) }) }
    }

    static func occurrences(_ s: String, _ fragment: String) -> Int { s.components(separatedBy: fragment).count - 1 }

    @Test func aDeletedSnapshotAnswersDataLossNamingTheFile() throws {
        let d = try RestartableDaemon(models: TestDaemon.fixtureModel())
        var c = try d.client()
        _ = try c.createCollection("r", dimension: 4)
        for call in 0..<40 { _ = try c.upsert("r", Self.items(call)) }
        _ = try c.optimizeCollection("r")  // a checkpoint: the snapshot covers sequences 1–40
        for call in 40..<52 { _ = try c.upsert("r", Self.items(call)) }
        #expect(try c.count("r") == 2600)
        d.kill9()  // no checkpoint at exit: the log keeps 41–52
        try FileManager.default.removeItem(atPath: Self.collectionDirectory(d, "r") + "/index.snap")
        try d.start()
        c = try d.client()
        for _ in 0..<3 {
            let (code, message) = StoreServiceTests.status { _ = try c.count("r") }
            #expect(code == .dataLoss && message.contains("/r/index.snap"), "\(String(describing: code)): \(message)")
        }
        #expect(StoreServiceTests.status { _ = try c.describeCollection("r") }.0 == .dataLoss)
        #expect(StoreServiceTests.status { _ = try c.upsert("r", Self.items(99)) }.0 == .dataLoss)
        let listed = try c.listCollections().first { $0.name == "r" }
        #expect(listed?.error.contains("index.snap") == true, "\(String(describing: listed))")
        // Logged once, however many calls hit it.
        #expect(Self.occurrences(d.log, "collection 'r' cannot be opened") == 1, "\(d.log.suffix(3000))")
        // Nothing was replayed and checkpointed over the gap: the log still holds 41–52.
        #expect(d.stop() == 0)
        #expect(FileManager.default.fileExists(atPath: Self.collectionDirectory(d, "r") + "/wal.log"))
        #expect(!FileManager.default.fileExists(atPath: Self.collectionDirectory(d, "r") + "/index.snap"))
    }

    @Test func aBackgroundCheckFailureShowsInDescribeStatsAndList() throws {
        let d = try RestartableDaemon(models: TestDaemon.fixtureModel())
        var c = try d.client()
        _ = try c.createCollection("r", dimension: 4)
        for call in 0..<4 { _ = try c.upsert("r", Self.items(call)) }
        #expect(d.stop() == 0)  // checkpoints
        let snap = Self.collectionDirectory(d, "r") + "/index.snap"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: snap)))
        bytes[4096 + 100] ^= 0x40  // the nodes section: found by the background check, not at open
        try Data(bytes).write(to: URL(fileURLWithPath: snap))
        try d.start()
        c = try d.client()
        var described = try c.describeCollection("r")
        let deadline = Date().addingTimeInterval(20)
        while described.error.isEmpty && Date() < deadline {
            usleep(50_000)
            described = try c.describeCollection("r")
        }
        #expect(described.error.contains("index.snap") && described.error.contains("checksum"), "\(described.error)")
        let stats = try c.stats("r").first
        #expect(stats?.error.contains("checksum") == true, "\(String(describing: stats))")
        let listed = try c.listCollections().first { $0.name == "r" }
        #expect(listed?.error.contains("checksum") == true, "\(String(describing: listed))")
        #expect(StoreServiceTests.status { _ = try c.search("r", vector: [1, 2, 3, 4]) }.0 == .dataLoss)
        #expect(d.log.contains("index.snap"))
        d.stop()
    }

    @Test(.enabled(if: IntegrationTmpfs.canMount, "needs permission to mount a tmpfs"))
    func aFullDiskAnswersResourceExhaustedAndKeepsServingReads() throws {
        let d = try RestartableDaemon(models: TestDaemon.fixtureModel(), start: false)
        let root = d.directory + "/data/collections"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try #require(IntegrationTmpfs.mount(root, bytes: 4 << 20))
        defer { d.stop(); IntegrationTmpfs.unmount(root) }
        try d.start()
        let c = try d.client()
        _ = try c.createCollection("r", dimension: 64)
        _ = try c.upsert("r", Self.items(0, per: 50, dim: 64))
        // Fill the rest of the file system.
        _ = FileManager.default.createFile(atPath: root + "/filler", contents: nil)
        let filler = try #require(FileHandle(forWritingAtPath: root + "/filler"))
        let chunk = Data(repeating: 7, count: 64 << 10)
        while (try? filler.write(contentsOf: chunk)) != nil {}
        try? filler.close()
        var acked = 50
        var refusal: (StatusCode?, String) = (.ok, "")
        for call in 1..<5000 {
            refusal = StoreServiceTests.status { _ = try c.upsert("r", Self.items(call, per: 1, dim: 64)) }
            if refusal.0 != .ok { break }
            acked += 1
        }
        #expect(refusal.0 == .resourceExhausted, "\(refusal)")
        #expect(refusal.1.contains("/r/") && refusal.1.contains("disk"), "\(refusal.1)")
        // Reads go on.
        #expect(try c.count("r") == UInt64(acked))
        #expect(try c.get("r", key: "0-7") != nil)
        #expect(try c.search("r", vector: (0..<64).map { Float(7 + $0) }, k: 1).first?.key == "0-7")
        #expect(try c.describeCollection("r").name == "r")
        // Space is back: writes resume without a restart.
        try FileManager.default.removeItem(atPath: root + "/filler")
        _ = try c.upsert("r", Self.items(9999, per: 1, dim: 64))
        #expect(try c.count("r") == UInt64(acked + 1))
        #expect(d.stop() == 0)
        try d.start()
        #expect(try d.client().count("r") == UInt64(acked + 1))
    }
}

/// A small tmpfs for a genuinely full file system (root only; tests skip elsewhere).
enum IntegrationTmpfs {
    static let canMount: Bool = {
        guard let probe = try? FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-tmpfs-probe.XXXXXX") else { return false }
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard mount(probe, bytes: 1 << 20) else { return false }
        unmount(probe)
        return true
    }()

    static func mount(_ path: String, bytes: Int) -> Bool {
        (try? runProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", path]))?.status == 0
    }

    static func unmount(_ path: String) { _ = try? runProgram("/bin/umount", ["-l", path]) }
}
