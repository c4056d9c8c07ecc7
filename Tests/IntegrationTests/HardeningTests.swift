import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// The adversarial pass of issue 17, through the real daemon: descriptors and memory given
/// back, bounded partial frames, per-uid admission, timeouts a trickle cannot reset, deadline
/// admission, fail-closed bindings, held groups, and SIGTERM winning over SIGHUP.
@Suite(.serialized) struct HardeningTests {
    static func status(of body: () throws -> Void) -> (StatusCode?, String) { callStatus(body) }

    /// Open descriptors of process `pid`.
    static func descriptorCount(_ pid: Int32) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
    }

    /// Resident memory of process `pid` in bytes (VmRSS).
    static func residentBytes(_ pid: Int32) -> Int {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
        return kb * 1024
    }

    /// Polls `condition` until it holds or `seconds` pass; returns whether it held.
    static func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    // MARK: 1. Descriptors

    @Test func passedDescriptorsAreClosedWhateverTheOutcome() throws {
        let d = try TestDaemon()
        let c = try d.client()
        _ = try c.createCollection("files", model: "fx")
        let path = d.directory + "/note.txt"
        try "a note about descriptors".write(toFile: path, atomically: true, encoding: .utf8)
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { try? fd.close() }
        let textFile = Input(.file(FileRef(index: 0, mimeType: "text/plain")))
        _ = try c.embed(model: "fx", inputs: [.text("warm-up")])
        let before = Self.descriptorCount(d.pid)
        for i in 0..<30 {
            // Success on every path that reads files.
            _ = try c.embed(model: "fx", inputs: [textFile], files: [fd])
            _ = try c.upsert("files", [UpsertItem(key: "k\(i)", value: .input(textFile))], files: [fd])
            _ = try c.search("files", [SearchQuery(.input(textFile))], k: 1, files: [fd])
            // Failures: a missing collection, a reference past the files passed, a method that
            // takes no files, and extra descriptors nothing refers to.
            #expect(Self.status { _ = try c.upsert("nope", [UpsertItem(key: "x", value: .input(textFile))], files: [fd]) }.0 == .notFound)
            let missing = Input(.file(FileRef(index: 3, mimeType: "text/plain")))
            #expect(Self.status { _ = try c.embed(model: "fx", inputs: [missing], files: [fd]) }.0 == .invalidArgument)
            _ = try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self, descriptors: [fd, fd, fd])
            _ = try c.embed(model: "fx", inputs: [textFile], files: [fd, fd, fd, fd])
        }
        // 210 calls passed 330 descriptors: they must all be closed again.
        let closed = Self.eventually(5) { Self.descriptorCount(d.pid) <= before + 2 }
        #expect(closed, "descriptors: \(before) before, \(Self.descriptorCount(d.pid)) after 210 calls")
    }

    @Test func unreferencedDescriptorsCloseAtOnceAndThePerCallCapHolds() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(name: "slow", options: ["delay_us": "1500000"]),
                               settings: "limits:\n  max_descriptors_per_call: 8\n")
        let c = try d.client()
        let path = d.directory + "/note.txt"
        try "slow".write(toFile: path, atomically: true, encoding: .utf8)
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { try? fd.close() }
        let before = Self.descriptorCount(d.pid)
        // A slow call (1.5 s) referring to file 0 of 8: the other 7 close as soon as it is
        // decoded, file 0 once it is read — none is held while the call waits for its model.
        let id = c.makeCallID()
        let request = EmbedRequest(model: "slow", inputs: [Input(.file(FileRef(index: 0, mimeType: "text/plain")))])
        try c.send(.request(callID: id, method: .embed, message: request), descriptors: Array(repeating: fd, count: 8))
        usleep(500_000)
        #expect(Self.descriptorCount(d.pid) <= before, "while the call runs: \(Self.descriptorCount(d.pid)) vs \(before)")
        _ = try c.awaitReply(callID: id)
        // Nine descriptors with one frame: that call is refused, its descriptors closed at once,
        // and the connection goes on.
        let other = try d.client()
        let refused = Self.status {
            _ = try other.call(.embed, request, as: EmbedResponse.self, descriptors: Array(repeating: fd, count: 9))
        }
        #expect(refused.0 == .resourceExhausted && refused.1.contains("max_descriptors_per_call"), "\(refused)")
        #expect(try other.embed(model: "slow", inputs: [Input(.file(FileRef(index: 0, mimeType: "text/plain")))], files: [fd]).vectors.count == 1)
        #expect(Self.eventually(3) { Self.descriptorCount(d.pid) <= before + 2 })
    }

    // MARK: 2. Memory given back; Delete capped

    @Test func rejectedLargeFramesGiveTheirMemoryBack() throws {
        let d = try TestDaemon()
        let warm = try d.client()
        _ = try warm.embed(model: "fx", inputs: [.text("warm-up")])
        usleep(200_000)
        let baseline = Self.residentBytes(d.pid)
        // 40 Upsert frames of 40 MB to a collection that does not exist, each on a connection
        // that stays open: every one is decoded and refused.
        let item = UpsertItem(key: "big", value: .vector(Vector(values: [Float](repeating: 0.25, count: 10_000_000))))
        let payload = UpsertRequest(collection: "absent", items: [item]).serializedBytes()
        #expect(payload.count > 40_000_000)
        var clients: [EmbedClient] = []
        for _ in 0..<40 {
            let c = try d.client()
            let id = c.makeCallID()
            try c.send(Frame(kind: .request, method: .upsert, callID: id, payload: payload))
            #expect(Self.status { _ = try c.awaitReply(callID: id) }.0 == .notFound)
            clients.append(c)
        }
        let back = Self.eventually(10) { Self.residentBytes(d.pid) <= baseline + (64 << 20) }
        #expect(back, "RSS \(baseline >> 20) MiB before, \(Self.residentBytes(d.pid) >> 20) MiB after 40 rejected 40 MB frames")
        for c in clients { c.close() }
    }

    @Test func deleteIsCappedAndAbsentKeysWriteNothing() throws {
        let d = try TestDaemon()
        let c = try d.client()
        _ = try c.createCollection("raw", dimension: 4)
        _ = try c.upsert("raw", [UpsertItem(key: "a", value: .vector(Vector(values: [1, 0, 0, 0])))])
        let tooMany = Self.status { _ = try c.delete("raw", keys: (0...1024).map { "k\($0)" }) }
        #expect(tooMany.0 == .invalidArgument && tooMany.1.contains("max_inputs_per_call"), "\(tooMany)")
        let wal = try #require(c.describeCollection("raw").stats).walBytes
        #expect(try c.delete("raw", keys: (0..<1000).map { "absent\($0)" }) == 0)
        #expect(try #require(c.describeCollection("raw").stats).walBytes == wal, "a delete of absent keys wrote to the log")
        #expect(try c.delete("raw", keys: ["a", "a", "absent"]) == 1)
        #expect(try c.count("raw") == 0)
    }

    // MARK: 3. Partial frames

    /// Connects, says HELLO, then sends the header of a frame declaring `declared` payload bytes
    /// and as much of `sent` bytes as the socket takes within `seconds`. Returns the socket.
    static func partialFrame(_ socket: String, declared: Int, sent: Int, seconds: Double) throws -> FileDescriptor {
        let fd = try UnixSocket.connect(path: socket)
        try UnixSocket.sendAll(fd, Frame.hello(Hello(major: ProtocolVersion.major, minor: ProtocolVersion.minor, client: "partial")).encoded())
        var header = Frame(kind: .request, method: .embed, callID: 1, payload: []).encoded()
        header[0] = UInt8(declared >> 24 & 0xff); header[1] = UInt8(declared >> 16 & 0xff)
        header[2] = UInt8(declared >> 8 & 0xff); header[3] = UInt8(declared & 0xff)
        try fd.setNonBlocking(true)
        var bytes = header + [UInt8](repeating: 0x55, count: sent)
        let end = Date().addingTimeInterval(seconds)
        var done = 0
        while done < bytes.count && Date() < end {
            let n = try bytes.withUnsafeMutableBytes { raw in try UnixSocket.send(fd, UnsafeRawBufferPointer(rebasing: raw[done...])) }
            if let n { done += n } else { usleep(10_000) }
        }
        bytes = []
        return fd
    }

    /// Whether the server closed `fd` (EOF after any GOAWAY) within `seconds`.
    static func closedByServer(_ fd: FileDescriptor, within seconds: Double) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            let r = buffer.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try fd.read(into: raw) } }
            switch r {
            case .success(0): return true
            case .failure(let e) where e != .wouldBlock: return true
            default: usleep(20_000)
            }
        }
        return false
    }

    @Test func partlySentFramesDoNotPinMemory() throws {
        let d = try TestDaemon(settings: "limits:\n  max_buffered_bytes: 16MiB\n  frame_timeout: 3s\n  idle_timeout: 5s\n")
        _ = try d.client().embed(model: "fx", inputs: [.text("warm-up")])
        let baseline = Self.residentBytes(d.pid)
        // Eight connections each declare a 30 MiB frame and try to send 29 MiB of it.
        var sockets: [FileDescriptor] = []
        for _ in 0..<8 { sockets.append(try Self.partialFrame(d.socketPath, declared: 30 << 20, sent: 29 << 20, seconds: 0.5)) }
        usleep(300_000)
        let held = Self.residentBytes(d.pid) - baseline
        #expect(held < 64 << 20, "8 partly sent 30 MiB frames hold \(held >> 20) MiB of the daemon's memory")
        // Every stalled frame is cut: by the frame timeout once it holds a reservation, by
        // the idle timeout while it waits for one.
        for fd in sockets {
            #expect(Self.closedByServer(fd, within: 15))
            try? fd.close()
        }
        #expect(d.log.contains("frame_timeout"))
        // And the daemon still serves.
        #expect(try d.client().embed(model: "fx", inputs: [.text("after")]).vectors.count == 1)
    }

    @Test func aTrickleDoesNotKeepAConnectionOpen() throws {
        let d = try TestDaemon(settings: "limits:\n  idle_timeout: 1s\n  frame_timeout: 30s\n")
        let fd = try Self.partialFrame(d.socketPath, declared: 100, sent: 1, seconds: 0.2)
        defer { try? fd.close() }
        // One byte every 200 ms of a frame that never completes.
        let start = Date()
        var closed = false
        while Date().timeIntervalSince(start) < 6 && !closed {
            var byte: [UInt8] = [0x55]
            _ = byte.withUnsafeMutableBytes { raw in try? UnixSocket.send(fd, UnsafeRawBufferPointer(raw)) }
            closed = Self.closedByServer(fd, within: 0.2)
        }
        #expect(closed, "a connection trickling one byte every 200 ms outlived its 1 s idle timeout")
        #expect(Date().timeIntervalSince(start) < 4)
    }

    // MARK: 4. Admission

    /// Runs a Python script as `nobody` that opens `count` connections to `socket`, says HELLO
    /// on each and prints "ok" or the GOAWAY's message per connection, then holds them for
    /// `hold` seconds (reading nothing more).
    static func connectAsNobody(_ d: TestDaemon, count: Int, hold: Double) throws -> Process {
        let script = """
        import socket, struct, sys, time
        def reply(s):
            head = b""
            while len(head) < 16:
                chunk = s.recv(16 - len(head))
                if not chunk:
                    return "closed"
                head += chunk
            n, kind = struct.unpack(">IB", head[:5])
            body = b""
            while len(body) < n:
                chunk = s.recv(n - len(body))
                if not chunk:
                    break
                body += chunk
            return "ok" if kind == 1 else "refused " + body.decode("utf-8", "replace")
        socks = []
        for i in range(\(count)):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(sys.argv[1])
            hello = bytes([0x08, \(ProtocolVersion.major), 0x10, \(ProtocolVersion.minor)])
            try:
                s.sendall(struct.pack(">IBBHII", len(hello), 1, 1, 0, 0, 0) + hello)
            except OSError:
                pass  # refused: the GOAWAY is already waiting to be read
            try:
                print(reply(s), flush=True)
            except OSError as e:
                print("closed " + str(e), flush=True)
            socks.append(s)
        time.sleep(\(hold))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        p.arguments = ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3", "-c", script, d.socketPath]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        try p.run()
        // Returns once every connection reported.
        var text = ""
        let end = Date().addingTimeInterval(20)
        while text.split(separator: "\n").count < count && Date() < end {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        lines.withLock { $0 = text.split(separator: "\n").map(String.init) }
        return p
    }
    static let lines = NSLockedValue<[String]>([])

    @Test func oneUserCannotTakeEverySlot() throws {
        let d = try TestDaemon(settings: "limits:\n  max_connections: 10\n  reserved_connections: 2\n  max_connections_per_uid: 5\n")
        // nobody may hold 5; the sixth is refused by the per-uid cap.
        let first = try Self.connectAsNobody(d, count: 6, hold: 8)
        defer { first.terminate(); first.waitUntilExit() }
        let a = Self.lines.withLock { $0 }
        #expect(a.filter { $0 == "ok" }.count == 5, "\(a)")
        #expect(a.last?.contains("max_connections_per_uid") == true, "\(a)")
        // root fills the 8 open slots (5 + 3), then still gets in on the reserved ones.
        var mine: [EmbedClient] = []
        for _ in 0..<3 { mine.append(try d.client()) }
        for _ in 0..<2 {
            let c = try d.client()
            #expect(try c.call(.health, HealthRequest(), as: HealthResponse.self).status == .serving)
            mine.append(c)
        }
        _ = mine
    }

    @Test func reservedSlotsKeepRootIn() throws {
        let d = try TestDaemon(settings: "limits:\n  max_connections: 6\n  reserved_connections: 2\n  max_connections_per_uid: 100\n")
        let p = try Self.connectAsNobody(d, count: 6, hold: 8)
        defer { p.terminate(); p.waitUntilExit() }
        let a = Self.lines.withLock { $0 }
        #expect(a.filter { $0 == "ok" }.count == 4, "\(a)")
        #expect(a.last?.contains("reserved_connections") == true, "\(a)")
        let root = try d.client()
        #expect(try root.call(.health, HealthRequest(), as: HealthResponse.self).status == .serving)
    }

    @Test func callsThatCannotMeetTheirDeadlineAreRefusedAtOnce() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(name: "slow", options: ["delay_us": "100000"]))
        let c = try d.client()
        _ = try c.embed(model: "slow", inputs: [.text("measure")])  // 0.1 s per input, measured
        // 20 inputs queue 2 s of work; a call with a 500 ms deadline behind them cannot make it.
        let busy = try d.client()
        let id = busy.makeCallID()
        try busy.send(.request(callID: id, method: .embed, message: EmbedRequest(model: "slow", inputs: (0..<20).map { .text("q\($0)") })))
        let filler = try d.client()
        let id2 = filler.makeCallID()
        try filler.send(.request(callID: id2, method: .embed, message: EmbedRequest(model: "slow", inputs: (0..<20).map { .text("r\($0)") })))
        usleep(100_000)
        let start = Date()
        let late = Self.status {
            _ = try c.call(.embed, EmbedRequest(model: "slow", inputs: [.text("late")]), as: EmbedResponse.self, descriptors: [], deadlineMilliseconds: 500)
        }
        let waited = Date().timeIntervalSince(start)
        #expect(late.0 == .deadlineExceeded && late.1.contains("refused without waiting"), "\(late)")
        #expect(waited < 0.4, "refused after \(waited) s")
        _ = try busy.awaitReply(callID: id)
        _ = try filler.awaitReply(callID: id2)
    }

    // MARK: 6–7. Bindings fail closed; held groups decide

    @Test func aMissingOrDamagedBindingFailsClosed() throws {
        let d = try RestartableDaemon(models: TestDaemon.fixtureModel())
        let c = try d.client()
        _ = try c.createCollection("secret", dimension: 4, acl: CollectionAcl(ownerUid: 0, restrictRead: true))
        _ = try c.upsert("secret", [UpsertItem(key: "a", value: .vector(Vector(values: [1, 0, 0, 0])))])
        let binding = d.directory + "/data/collections/secret/embedd.binding"
        #expect(FileManager.default.fileExists(atPath: binding))
        let denied = try d.ctl(["get", "secret", "a"], asNobody: true)
        #expect(denied.status != 0 && denied.stderr.contains("permission"), "\(denied.stderr)")
        let original = try String(contentsOfFile: binding, encoding: .utf8)
        _ = d.stop()
        try FileManager.default.removeItem(atPath: binding)
        try d.start()
        let stillDenied = try d.ctl(["get", "secret", "a"], asNobody: true)
        #expect(stillDenied.status != 0 && stillDenied.stderr.contains("permission"), "missing binding: \(stillDenied.stdout) \(stillDenied.stderr)")
        #expect(try d.client().count("secret") == 1, "admins keep access")
        _ = d.stop()
        try original.replacingOccurrences(of: "restrict_read 1", with: "restrict_read 2").write(toFile: binding, atomically: true, encoding: .utf8)
        try d.start()
        let damaged = Self.status { _ = try d.client().count("secret") }
        #expect(damaged.0 == .dataLoss && damaged.1.contains("restrict_read"), "\(damaged)")
        _ = d.stop()
    }

    @Test func groupGrantsFollowTheGroupsTheProcessHolds() throws {
        let d = try TestDaemon()
        let c = try d.client()
        // gid 4321 lists nobody nowhere in /etc/group; the process is given it by setpriv.
        _ = try c.createCollection("team", dimension: 4, acl: CollectionAcl(ownerUid: 0, readerGids: [4321], restrictRead: true))
        _ = try c.upsert("team", [UpsertItem(key: "a", value: .vector(Vector(values: [1, 0, 0, 0])))])
        let held = try d.ctl(["get", "team", "a"], asNobody: true, groups: ["4321"])
        #expect(held.status == 0, "a process holding gid 4321 was refused: \(held.stderr)")
        let notHeld = try d.ctl(["get", "team", "a"], asNobody: true)
        #expect(notHeld.status != 0 && notHeld.stderr.contains("permission"), "\(notHeld.stderr)")
    }

    // MARK: 12. SIGTERM wins over SIGHUP

    @Test func sigtermWinsOverAPendingSighup() throws {
        let d = try TestDaemon()
        // Both pending at once: stop the process, queue both, let it run.
        d.signal(SIGSTOP)
        usleep(100_000)
        d.signal(SIGHUP)
        d.signal(SIGTERM)
        d.signal(SIGCONT)
        #expect(d.waitForExit(timeout: 30) == 0)
        #expect(!d.log.contains("SIGHUP: reloading"), "the reload ran during the drain:\n\(d.log)")
        #expect(d.log.contains("SIGHUP ignored"))
    }
}

/// A value behind a lock, for test helpers shared between threads.
final class NSLockedValue<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func withLock<R>(_ body: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}
