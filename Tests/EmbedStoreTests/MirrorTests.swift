@testable import EmbedStore
import EmbedSys
import Testing

/// Mirror cursors, the log retained past checkpoints for them, and reading changes back.
@Suite struct MirrorTests {
    /// Every change after `after`, page by page (`limit` records each).
    func allChanges(_ c: VectorCollection, after: UInt64, limit: Int) throws -> [LoggedChange] {
        var out: [LoggedChange] = []
        var at = after
        while true {
            let page = try c.changes(after: at, limit: limit)
            if page.changes.isEmpty { #expect(page.next == page.lastSequence); return out }
            #expect(page.changes.first!.sequence == at + 1)
            for (a, b) in zip(page.changes, page.changes.dropFirst()) { #expect(b.sequence == a.sequence + 1) }
            out += page.changes
            at = page.next
        }
    }

    @Test func cursorFileRoundTripsAndRefusesDamage() throws {
        let dir = TempDirectory("mirfile")
        defer { dir.cleanup() }
        let cursors = [MirrorCursor(target: "milvus://a:19530/x", prefix: "m1/", sequence: 42, registeredUnixMs: 1, ackedUnixMs: 2),
                       MirrorCursor(target: "milvus://b/y", prefix: "", sequence: 0, registeredUnixMs: 3, ackedUnixMs: 3)]
        try MirrorCursorFile.save(cursors, directory: dir.path)
        #expect(try MirrorCursorFile.load(directory: dir.path) == cursors)
        var bytes = try FileSystem.readFile(dir.path + "/mirrors")
        bytes[20] ^= 1
        try FileSystem.replaceFile(dir.path + "/mirrors", with: bytes, temporary: dir.path + "/t", directory: dir.path)
        #expect(throws: StoreError.corrupt(file: dir.path + "/mirrors", detail: "checksum mismatch")) {
            try MirrorCursorFile.load(directory: dir.path)
        }
        try MirrorCursorFile.save([], directory: dir.path)
        #expect(!FileSystem.exists(dir.path + "/mirrors"))
        #expect(try MirrorCursorFile.load(directory: dir.path) == [])
    }

    /// Changes page through upserts and deletes in log order, across checkpoints (retained
    /// segments) and a reopen, with vectors bit-equal to what was written.
    @Test func changesSurviveCheckpointsAndReopen() throws {
        let dir = TempDirectory("mirchanges")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 7)
        let items = gen.random(n: 600, dim: 8)
        let options = OpenOptions(checkpointLogBytes: 1 << 40)
        var (catalog, c) = try makeCollection(dir, "m", dim: 8, metric: .cosine, options: options)
        try c.upsert([Record(key: "before", vector: items[599])])
        let cursor = try c.registerMirror(target: "milvus://h/t", prefix: "p/")
        #expect(cursor.sequence == 1)
        #expect(throws: StoreError.self) { try c.registerMirror(target: "milvus://h/t", prefix: "") }
        for i in 0..<300 { try c.upsert([Record(key: "k\(i)", vector: items[i], metadata: "{\"i\":\(i)}", document: i % 2 == 0 ? "{\"t\":\"d\"}" : nil)]) }
        try c.checkpoint()
        try c.delete(["k0", "k1", "absent"])
        try c.upsert((300..<400).map { Record(key: "k\($0)", vector: items[$0]) })  // one write of 100 records
        try c.checkpoint()
        try c.upsert([Record(key: "k5", vector: items[500], metadata: "{\"replaced\":true}")])
        #expect(FileSystem.isDirectory(dir.path + "/m/retained"))
        #expect(c.retainedLogBytes > 0)
        let status = try #require(c.mirrorStatuses().first)
        #expect(status.lagSequences == 303 && status.lagRecords == 300 + 2 + 100 + 1 && !status.stale)
        #expect(status.lagSeconds >= 0)

        func check(_ changes: [LoggedChange]) {
            #expect(changes.count == 303)
            guard changes.count == 303 else { return }
            for i in 0..<300 {
                guard case .upsert(let r) = changes[i].operation, r.count == 1 else { Issue.record("change \(i) is not one upsert"); return }
                #expect(r[0] == Record(key: "k\(i)", vector: items[i], metadata: "{\"i\":\(i)}", document: i % 2 == 0 ? "{\"t\":\"d\"}" : nil))
            }
            #expect(changes[300].operation == .delete(["k0", "k1"]))
            guard case .upsert(let big) = changes[301].operation else { Issue.record("not an upsert"); return }
            #expect(big.map(\.vector) == Array(items[300..<400]))
            #expect(changes[302].operation == .upsert([Record(key: "k5", vector: items[500], metadata: "{\"replaced\":true}")]))
        }
        check(try allChanges(c, after: 1, limit: 7))
        check(try allChanges(c, after: 1, limit: 1000))
        // A page holds whole writes: the 100-record upsert comes alone when the limit is 10.
        let big = try c.changes(after: 301, limit: 10)
        #expect(big.changes.map(\.sequence) == [302] && big.next == 302)

        try catalog.close("m")
        catalog = try StoreCatalog(directory: dir.path, options: options)
        c = try catalog.open("m")
        check(try allChanges(c, after: 1, limit: 50))
        // After the reopen the lag counts writes from before it one record each.
        #expect(c.mirrorStatuses().first?.lagSequences == 303)

        // Acks move the cursor and free the segments every cursor has passed.
        _ = try c.ackMirror(target: "milvus://h/t", sequence: 302)
        _ = try c.ackMirror(target: "milvus://h/t", sequence: 10)  // never back
        #expect(c.mirrorStatuses().first?.cursor.sequence == 302)
        #expect(try allChanges(c, after: 302, limit: 10).count == 2)  // 303 and 304 are still kept
        #expect(c.retainedLogBytes > 0)
        _ = try c.ackMirror(target: "milvus://h/t", sequence: 304)
        #expect(c.retainedLogBytes == 0)  // every segment passed
        #expect(throws: StoreError.self) { try c.ackMirror(target: "milvus://h/t", sequence: 999) }
        #expect(throws: StoreError.self) { try c.ackMirror(target: "milvus://other", sequence: 1) }
        #expect(throws: StoreError.self) { try c.changes(after: 999, limit: 1) }
        try catalog.close("m")
    }

    /// Without a mirror behind it, a checkpoint drops the log; a mirror whose log passed
    /// `mirrorLogBytes` is stale, and Changes says a fresh export is needed.
    @Test func staleCursorsAreRefusedClearly() throws {
        let dir = TempDirectory("mirstale")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 9)
        let items = gen.random(n: 200, dim: 16)
        let (catalog, c) = try makeCollection(dir, "s", dim: 16, metric: .l2,
                                              options: OpenOptions(checkpointLogBytes: 1 << 40, mirrorLogBytes: 6000))
        try c.upsert([Record(key: "a", vector: items[0])])
        try c.checkpoint()
        // No mirror: nothing was retained, so sequence 0 cannot be read back.
        #expect(!FileSystem.isDirectory(dir.path + "/s/retained"))
        do { _ = try c.changes(after: 0, limit: 10); Issue.record("expected a stale error") } catch {
            guard case .failedPrecondition(let m) = error else { Issue.record("\(error)"); return }
            #expect(m.contains("fresh export") && m.contains("mirror_log_limit"))
        }
        _ = try c.registerMirror(target: "t", prefix: "")
        for i in 1..<40 { try c.upsert([Record(key: "k\(i)", vector: items[i])]) }  // ~40 × 100 bytes
        try c.checkpoint()
        #expect(c.mirrorStatuses().first?.stale == false)
        #expect(try allChanges(c, after: 1, limit: 100).count == 39)
        for i in 40..<100 { try c.upsert([Record(key: "k\(i)", vector: items[i])]) }
        try c.checkpoint()  // the first segment goes: over 6000 bytes together
        let s = try #require(c.mirrorStatuses().first)
        #expect(s.stale)
        #expect(throws: StoreError.self) { try c.changes(after: 1, limit: 10) }
        // A reset (after a fresh export) starts again from the last write.
        let again = try c.registerMirror(target: "t", prefix: "", reset: true)
        #expect(again.sequence == c.stats().lastSequence)
        #expect(c.mirrorStatuses().first?.stale == false)
        try c.removeMirror(target: "t")
        #expect(c.retainedLogBytes == 0 && c.mirrorStatuses().isEmpty)
        try catalog.close("s")
    }

    /// Readers page through the log while writers write and checkpoints empty it: every
    /// write comes back once, in order.
    @Test func changesWhileWritingAndCheckpointing() throws {
        let dir = TempDirectory("mirconc")
        defer { dir.cleanup() }
        var gen = DataGen(seed: 11)
        let items = gen.random(n: 2000, dim: 8)
        let (catalog, c) = try makeCollection(dir, "w", dim: 8, metric: .l2, options: OpenOptions(checkpointLogBytes: 20_000))
        _ = try c.registerMirror(target: "t", prefix: "")
        let writer = try OSThread {
            for i in 0..<2000 { try? c.upsert([Record(key: "k\(i % 500)", vector: items[i])]) }
        }
        var seen: [UInt64] = []
        var at: UInt64 = 0
        while seen.count < 2000 {
            let page = try c.changes(after: at, limit: 64)
            seen += page.changes.map(\.sequence)
            at = page.next
            if page.changes.count > 3 { _ = try c.ackMirror(target: "t", sequence: at - 2) }
        }
        writer.join()
        #expect(seen == Array(1...2000))
        try catalog.close("w")
    }
}
