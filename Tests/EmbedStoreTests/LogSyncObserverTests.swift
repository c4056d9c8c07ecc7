@testable import EmbedStore
import EmbedSys
import Synchronization
import Testing

/// `OpenOptions.logSyncObserver`: the hook a server's fsync-latency histogram hangs on (the
/// store knows nothing of metrics). Told once per group commit, failed ones included.
@Suite struct LogSyncObserverTests {
    final class Seen: Sendable {
        let calls = Atomic<Int>(0)
        let nanos = Atomic<UInt64>(0)
    }

    @Test func everyCommitOfTheLogIsReported() throws {
        let dir = TempDirectory("syncobs")
        defer { dir.cleanup(); SyscallFaults.clear(under: dir.path) }
        let seen = Seen()
        var options = OpenOptions()
        options.logSyncObserver = { ns in
            seen.calls.add(1, ordering: .relaxed)
            seen.nanos.add(ns, ordering: .relaxed)
        }
        let (catalog, c) = try makeCollection(dir, "s", dim: 2, metric: .l2, options: options)
        // One writer at a time: one group commit each.
        for i in 0..<5 { try c.upsert([Record(key: "k\(i)", vector: [Float(i), 1])]) }
        #expect(try c.delete(["k0"]) == 1)
        #expect(seen.calls.load(ordering: .relaxed) == 6)
        #expect(seen.nanos.load(ordering: .relaxed) > 0, "an fdatasync takes some time")
        // A failed append is a commit that cost time too.
        SyscallFaults.inject(.noSpace, on: "write", under: dir.path)
        #expect(throws: StoreError.self) { try c.upsert([Record(key: "lost", vector: [9, 9])]) }
        #expect(seen.calls.load(ordering: .relaxed) == 7)
        SyscallFaults.clear(under: dir.path)
        c.abandon()
        _ = catalog
    }
}
