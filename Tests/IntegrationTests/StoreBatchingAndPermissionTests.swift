import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// Dynamic batching (coalescing, identical vectors, queue bound, deadlines) and per-collection
/// permissions with a real client process running as `nobody`.
@Suite(.serialized) struct StoreBatchingAndPermissionTests {
    /// Runs `body(i)` on `n` threads at once and waits for all.
    static func concurrently(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<n {
            group.enter()
            Thread { body(i); group.leave() }.start()
        }
        group.wait()
    }

    final class Box<T>: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Int: T] = [:]
        func set(_ i: Int, _ v: T) { lock.lock(); values[i] = v; lock.unlock() }
        func get(_ i: Int) -> T? { lock.lock(); defer { lock.unlock() }; return values[i] }
    }

    static func fx(_ c: EmbedClient) throws -> EmbedWire.ModelInfo {
        let models = try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self).models
        return try #require(models.first { $0.name == "fx" })
    }

    @Test func concurrentCallsCoalesceAndVectorsMatchAlone() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(options: ["delay_us": "20000"]),
                               settings: "batching:\n  max_batch: 32\n  max_delay: 30ms")
        let c = try d.client()
        let texts = (0..<16).map { "sentence number \($0) about topic \($0 * 7 % 5)" }
        var alone: [[Float]] = []
        for t in texts { alone.append(try c.embed(model: "fx", inputs: [.text(t)]).vectors[0].values) }
        _ = try c.createCollection("b", model: "fx")

        // 16 concurrent single-input Embed calls.
        let before = try Self.fx(c)
        let results = Box<[Float]>()
        let socket = d.socketPath
        Self.concurrently(16) { i in
            guard let cl = try? EmbedClient(socketPath: socket, timeoutSeconds: 30),
                  let r = try? cl.embed(model: "fx", inputs: [.text(texts[i])]) else { return }
            results.set(i, r.vectors[0].values)
        }
        let after = try Self.fx(c)
        for i in 0..<16 { #expect(results.get(i) == alone[i], "vector \(i) differs when batched") }
        let calls = after.pluginCalls - before.pluginCalls
        #expect(after.inputsEmbedded - before.inputsEmbedded == 16)
        #expect(calls <= 5, "16 concurrent calls took \(calls) plugin calls; expected them coalesced")

        // Upsert and Search go through the same batcher: 8 upserts + 8 searches at once.
        let mid = try Self.fx(c)
        let failures = Box<String>()
        Self.concurrently(16) { i in
            guard let cl = try? EmbedClient(socketPath: socket, timeoutSeconds: 30) else { failures.set(i, "connect"); return }
            do {
                if i < 8 {
                    let r = try cl.upsert("b", [.text("k\(i)", texts[i])])
                    if r.stored != 1 { failures.set(i, "not stored: \(r.results)") }
                } else {
                    _ = try cl.search("b", text: texts[i], k: 1)
                }
            } catch { failures.set(i, "\(error)") }
        }
        for i in 0..<16 { #expect(failures.get(i) == nil, "call \(i): \(failures.get(i) ?? "")") }
        let end = try Self.fx(c)
        #expect(end.inputsEmbedded - mid.inputsEmbedded == 16)
        #expect(end.pluginCalls - mid.pluginCalls <= 6, "upserts and searches were not coalesced")
        for i in 0..<8 { #expect(try c.get("b", key: "k\(i)")?.vector?.values == alone[i]) }
    }

    /// A plugin error that fails a whole shared batch (the fixture fails any call holding the
    /// text "fixture:fail-call") fails only the job whose inputs caused it: the batcher runs
    /// each job of a failed shared batch alone.
    @Test func oneJobsWholeCallFailureDoesNotFailItsBatchmates() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(options: ["delay_us": "100000"]),
                               settings: "batching:\n  max_batch: 32\n  max_delay: 30ms")
        let c = try d.client()
        let alone = try c.embed(model: "fx", inputs: [.text("an innocent sentence")]).vectors[0].values
        let socket = d.socketPath
        let results = Box<String>()
        let before = try Self.fx(c)
        Self.concurrently(3) { i in
            guard let cl = try? EmbedClient(socketPath: socket, timeoutSeconds: 30) else { results.set(i, "connect"); return }
            if i > 0 { usleep(80_000) }  // 0 holds the compute thread; 1 and 2 queue and share the next batch
            let text = i == 1 ? "fixture:fail-call" : (i == 2 ? "an innocent sentence" : "a slow first call")
            do {
                let r = try cl.embed(model: "fx", inputs: [.text(text)])
                results.set(i, i == 2 && r.vectors[0].values != alone ? "wrong vector" : "ok")
            } catch { results.set(i, "\(error)") }
        }
        let after = try Self.fx(c)
        #expect(results.get(0) == "ok" && results.get(2) == "ok", "\(String(describing: results.get(2)))")
        #expect(results.get(1)?.contains("INTERNAL") == true && results.get(1)?.contains("fail-call") == true,
                "\(String(describing: results.get(1)))")
        #expect(after.pluginCalls - before.pluginCalls >= 3, "the two queued calls were not batched together first")
    }

    @Test func fullQueueAnswersResourceExhaustedAtOnce() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(options: ["delay_us": "300000"]),
                               settings: "batching:\n  max_batch: 1\n  max_delay: 0ms\n  queue_depth: 2")
        let c = try d.client()
        var ids: [UInt32] = []
        let start = Date()
        for i in 0..<8 {
            let id = c.makeCallID()
            ids.append(id)
            try c.send(.request(callID: id, method: .embed, message: EmbedRequest(model: "fx", inputs: [.text("queued \(i)")])))
        }
        var refused = 0, ok = 0
        var lastRefusal = 0.0
        for _ in ids {
            let f = try c.nextFrame()
            if f.status == .resourceExhausted {
                refused += 1
                lastRefusal = Date().timeIntervalSince(start)
                let m = try f.decodePayload(as: RpcStatus.self).message
                #expect(m.contains("queue_depth 2"))
            } else if f.status == .ok {
                ok += 1
            } else {
                Issue.record("unexpected status \(f.status)")
            }
        }
        #expect(refused >= 5 && ok == 8 - refused, "\(ok) answered, \(refused) refused")
        #expect(lastRefusal < 0.15, "refusals took \(lastRefusal) s; they must not wait for the model")
    }

    @Test func deadlinesExpireQueuedWork() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(options: ["delay_us": "300000"]),
                               settings: "batching:\n  max_batch: 1\n  max_delay: 0ms")
        let c = try d.client()
        let before = try Self.fx(c)
        let busy = c.makeCallID()
        try c.send(.request(callID: busy, method: .embed, message: EmbedRequest(model: "fx", inputs: [.text("slow one")])))
        usleep(50_000)
        let other = try d.client()
        let t0 = Date()
        var status: StatusCode?
        do { _ = try other.call(.embed, EmbedRequest(model: "fx", inputs: [.text("expires")]), as: EmbedResponse.self, deadlineMilliseconds: 100) }
        catch { status = error.status }
        #expect(status == .deadlineExceeded)
        #expect(Date().timeIntervalSince(t0) < 0.25)
        _ = try c.awaitReply(callID: busy)
        usleep(400_000)
        let after = try Self.fx(c)
        // The expired call never reached the plugin.
        #expect(after.inputsEmbedded - before.inputsEmbedded == 1)
    }

    /// A client process as uid `nobody` (setpriv), speaking the protocol from Python's stdlib:
    /// each argument `METHOD:HEX` is one call; prints `STATUS PAYLOADHEX` per call.
    static let rawClient = #"""
import socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
def frame(kind, method, cid, payload):
    return struct.pack('>IBBHII', len(payload), kind, 1, method, cid, 0) + payload
def read_exact(n):
    b = b''
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk: raise SystemExit('closed')
        b += chunk
    return b
def read_frame():
    n, kind, flags, method, cid, word = struct.unpack('>IBBHII', read_exact(16))
    return word, read_exact(n)
s.sendall(frame(1, 0, 0, bytes.fromhex('0801')))
read_frame()
for i, arg in enumerate(sys.argv[2:]):
    m, hx = arg.split(':')
    s.sendall(frame(2, int(m), i + 1, bytes.fromhex(hx)))
    word, payload = read_frame()
    print(word, payload.hex() or '-')
"""#

    static func asNobody(_ d: TestDaemon, _ calls: [(MethodID, any ProtoMessage)]) throws -> [(StatusCode, [UInt8])] {
        let args = calls.map { "\($0.0.rawValue):" + $0.1.serializedBytes().map { String(format: "%02x", $0) }.joined() }
        let r = try runProgram("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                                    "/usr/bin/python3", "-c", rawClient, d.socketPath] + args)
        try #require(r.status == 0, "client as nobody failed: \(r.stderr)")
        return r.stdout.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            let hex = String(parts[1])
            var bytes: [UInt8] = []
            if hex != "-" {
                var i = hex.startIndex
                while i < hex.endIndex { let j = hex.index(i, offsetBy: 2); bytes.append(UInt8(hex[i..<j], radix: 16)!); i = j }
            }
            return (StatusCode(rawValue: UInt32(parts[0])!), bytes)
        }
    }

    @Test func permissionsByUidForANobodyClient() throws {
        try #require(getuid() == 0, "needs root to run a client as nobody")
        let d = try TestDaemon()
        let c = try d.client()
        _ = try c.createCollection("open", model: "fx")
        _ = try c.createCollection(CreateCollectionRequest(name: "private", model: "fx", acl: CollectionAcl(restrictRead: true)))
        _ = try c.createCollection(CreateCollectionRequest(name: "shared", model: "fx", acl: CollectionAcl(writerUids: [65534])))
        _ = try c.upsert("open", [.text("a", "hello world")])
        // The owner's searches leave both collections open with their bindings cached, so
        // nobody's searches by vector below are the event loop's quick ones.
        let probe = try c.embed(model: "fx", inputs: [.text("hello world")]).vectors[0].values
        _ = try c.search("open", [SearchQuery(.vector(Vector(values: probe)))], k: 1)
        _ = try c.search("private", [SearchQuery(.vector(Vector(values: probe)))], k: 1)
        let r = try Self.asNobody(d, [
            (.upsert, UpsertRequest(collection: "open", items: [.text("n", "from nobody")])),
            (.search, SearchRequest(collection: "open", queries: [.text("hello world")], k: 1)),
            (.get, GetRequest(collection: "open", key: "a")),
            (.delete, DeleteRequest(collection: "open", keys: ["a"])),
            (.dropCollection, DropCollectionRequest(name: "open")),
            (.search, SearchRequest(collection: "private", queries: [.text("x")])),
            (.upsert, UpsertRequest(collection: "shared", items: [.text("n", "from nobody")])),
            (.listCollections, ListCollectionsRequest()),
            (.search, SearchRequest(collection: "open", queries: [SearchQuery(.vector(Vector(values: probe)))], k: 1)),
            (.search, SearchRequest(collection: "private", queries: [SearchQuery(.vector(Vector(values: probe)))], k: 1)),
        ])
        try #require(r.count == 10)
        let denied = try RpcStatus(serializedBytes: r[0].1)
        #expect(r[0].0 == .permissionDenied && denied.message.contains("'open'") && denied.message.contains("no write permission"))
        #expect(r[1].0 == .ok)
        #expect(try SearchResponse(serializedBytes: r[1].1).results.first?.hits.first?.key == "a")
        #expect(r[2].0 == .ok)
        #expect(r[3].0 == .permissionDenied && r[4].0 == .permissionDenied)
        let readDenied = try RpcStatus(serializedBytes: r[5].1)
        #expect(r[5].0 == .permissionDenied && readDenied.message.contains("no read permission"))
        #expect(r[6].0 == .ok)
        #expect(try UpsertResponse(serializedBytes: r[6].1).stored == 1)
        let listed = try ListCollectionsResponse(serializedBytes: r[7].1).collections
        #expect(listed.map(\.name) == ["open", "private", "shared"])
        #expect(listed.map(\.canWrite) == [false, false, true] && listed.map(\.canRead) == [true, false, true])
        #expect(r[8].0 == .ok)
        #expect(try SearchResponse(serializedBytes: r[8].1).results.first?.hits.first?.key == "a")
        let quickDenied = try RpcStatus(serializedBytes: r[9].1)
        #expect(r[9].0 == .permissionDenied && quickDenied.message.contains("no read permission"))
        // Nothing nobody was refused happened.
        #expect(try c.count("open") == 1 && (try c.get("open", key: "n")) == nil)
        #expect(try c.count("shared") == 1)
    }
}
