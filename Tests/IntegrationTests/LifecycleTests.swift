import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// A datagram socket that plays systemd's $NOTIFY_SOCKET and collects what the daemon sends.
final class NotifyListener {
    let path: String
    let fd: FileDescriptor
    private(set) var messages: [String] = []

    init(directory: String) throws {
        path = directory + "/notify.sock"
        fd = try UnixSocket.bindDatagram(path: path)
        try UnixSocket.setReceiveTimeout(fd, seconds: 0.2)
    }

    deinit { try? fd.close() }

    /// Reads datagrams until one contains `needle` or `timeout` passes.
    @discardableResult
    func wait(for needle: String, timeout: Double = 10) -> Bool {
        if messages.contains(where: { $0.contains(needle) }) { return true }
        let deadline = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let n = (try? buf.withUnsafeMutableBytes { try UnixSocket.receive(fd, into: $0) }) ?? nil
            if let n, n > 0 {
                let m = String(decoding: buf[..<n], as: UTF8.self)
                messages.append(m)
                if m.contains(needle) { return true }
            }
        }
        return false
    }

    func count(_ needle: String) -> Int { messages.filter { $0.contains(needle) }.count }
}

@Suite struct LifecycleTests {
    static func notifyDirectory() throws -> String {
        let d = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-notify.XXXXXX")
        return d
    }

    @Test func notifyReadyWatchdogReloadStopping() throws {
        let nd = try Self.notifyDirectory()
        defer { try? FileManager.default.removeItem(atPath: nd) }
        let listener = try NotifyListener(directory: nd)
        let d = try TestDaemon(env: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "400000"])
        #expect(listener.wait(for: "READY=1"), "no READY=1; got \(listener.messages)\n\(d.log)")
        #expect(listener.messages.first { $0.contains("READY=1") }?.contains("STATUS=serving 1 of 1 model(s)") == true)
        // Watchdog pings at half the interval (200 ms): expect several within a second.
        Thread.sleep(forTimeInterval: 1.0)
        _ = listener.wait(for: "never", timeout: 0.3)
        #expect(listener.count("WATCHDOG=1") >= 2, "\(listener.messages)")
        d.signal(SIGHUP)
        #expect(listener.wait(for: "RELOADING=1"), "\(listener.messages)")
        let reloading = listener.messages.first { $0.contains("RELOADING=1") } ?? ""
        #expect(reloading.contains("MONOTONIC_USEC="))
        let readyCount = listener.count("READY=1")
        let deadline = Date().addingTimeInterval(10)
        while listener.count("READY=1") == readyCount && Date() < deadline { _ = listener.wait(for: "never", timeout: 0.2) }
        #expect(listener.count("READY=1") == readyCount + 1, "READY=1 after the reload; \(listener.messages)")
        d.signal(SIGTERM)
        #expect(listener.wait(for: "STOPPING=1"), "\(listener.messages)")
        #expect(d.waitForExit() == 0)
    }

    @Test func watchdogIgnoredWhenMeantForAnotherProcess() throws {
        let nd = try Self.notifyDirectory()
        defer { try? FileManager.default.removeItem(atPath: nd) }
        let listener = try NotifyListener(directory: nd)
        let d = try TestDaemon(env: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"])
        #expect(listener.wait(for: "READY=1"))
        _ = listener.wait(for: "WATCHDOG=1", timeout: 0.8)
        #expect(listener.count("WATCHDOG=1") == 0)
        d.stop()
    }

    @Test func sighupHotSwapsWithCallsInFlight() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(name: "fx", options: ["delay_us": "20000"], isDefault: true))
        let c = try d.client()
        let before = try c.call(.embed, EmbedRequest(inputs: [.text("probe")]), as: EmbedResponse.self)
        #expect(before.generation == 1 && before.modelVersion == "v1")
        // Many calls in flight (each 10 inputs × 20 ms), then SIGHUP with a changed config.
        for id in UInt32(1000)..<1012 {
            try c.send(.request(callID: id, method: .embed, message: EmbedRequest(inputs: (0..<10).map { .text("call \(id) input \($0)") })))
        }
        var config = try String(contentsOfFile: d.configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "delay_us: \"20000\"", with: "delay_us: \"20000\", version: \"v2\"")
        config += TestDaemon.fixtureModel(name: "added")
        try config.write(toFile: d.configPath, atomically: true, encoding: .utf8)
        usleep(50_000)
        d.signal(SIGHUP)
        var ok = 0
        for id in UInt32(1000)..<1012 {
            let r = try c.awaitReply(callID: id)
            let e = try r.decodePayload(as: EmbedResponse.self)
            #expect(e.vectors.count == 10)
            ok += 1
        }
        #expect(ok == 12, "every call in flight during the reload must succeed")
        // The reload finishes: new generation, new version, new model.
        let deadline = Date().addingTimeInterval(15)
        var after = before
        while Date() < deadline {
            after = try c.call(.embed, EmbedRequest(inputs: [.text("probe")]), as: EmbedResponse.self)
            if after.modelVersion == "v2" { break }
            usleep(50_000)
        }
        #expect(after.modelVersion == "v2" && after.generation > before.generation, "\(d.log)")
        #expect(after.vectors[0].values != before.vectors[0].values, "the fixture mixes its version into vectors")
        let status = try c.call(.status, StatusRequest(), as: StatusResponse.self)
        #expect(status.reloads == 1)
        #expect(status.models.map(\.name) == ["fx", "added"])
        #expect(status.models.allSatisfy { $0.state == .ready })
        d.stop()
    }

    @Test func sighupWithBrokenConfigKeepsServing() throws {
        let d = try TestDaemon()
        try "limits: {max_connections: lots}\n".write(toFile: d.configPath, atomically: true, encoding: .utf8)
        d.signal(SIGHUP)
        let c = try d.client()
        let deadline = Date().addingTimeInterval(10)
        var status = StatusResponse()
        while Date() < deadline {
            status = try c.call(.status, StatusRequest(), as: StatusResponse.self)
            if !status.lastReloadError.isEmpty { break }
            usleep(20_000)
        }
        #expect(status.lastReloadError.contains("embedd.yaml:1:"), "\(status.lastReloadError)")
        #expect(status.models.first?.state == .ready)
        #expect(try c.call(.embed, EmbedRequest(inputs: [.text("x")]), as: EmbedResponse.self).vectors.count == 1)
        d.stop()
    }

    @Test func sigtermDrainsCallsInFlightAndExitsZero() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(name: "fx", options: ["delay_us": "50000"], isDefault: true))
        let c = try d.client()
        for id in UInt32(1)...4 {
            try c.send(.request(callID: id, method: .embed, message: EmbedRequest(inputs: (0..<6).map { .text("in \(id).\($0)") })))
        }
        usleep(100_000)
        d.signal(SIGTERM)
        usleep(100_000)
        // New connections are refused while draining; the socket file goes away.
        #expect(throws: (any Error).self) { try EmbedClient(socketPath: d.socketPath, timeoutSeconds: 2) }
        for id in UInt32(1)...4 {
            let r = try c.awaitReply(callID: id)
            #expect(try r.decodePayload(as: EmbedResponse.self).vectors.count == 6)
        }
        // Then a GOAWAY and the end of the stream.
        let g = try c.nextFrame()
        #expect(g.kind == .goAway && g.status == .unavailable)
        #expect(d.waitForExit() == 0, "\(d.log)")
        #expect(!FileManager.default.fileExists(atPath: d.socketPath))
        #expect(d.log.contains("SIGTERM: draining"))
    }

    @Test func drainTimeoutCancelsStragglers() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(name: "fx", options: ["delay_us": "200000"], isDefault: true),
                               settings: "limits: {drain_timeout: 300ms}")
        let c = try d.client()
        try c.send(.request(callID: 9, method: .embed, message: EmbedRequest(inputs: (0..<50).map { .text("x\($0)") })))
        usleep(100_000)
        let start = Date()
        d.signal(SIGTERM)
        do { _ = try c.awaitReply(callID: 9); Issue.record("expected the straggler to be cut off") } catch {
            #expect(error.status == .unavailable, "\(error)")
        }
        #expect(d.waitForExit() == 0)
        #expect(Date().timeIntervalSince(start) < 5, "drain must not wait for 10 s of work")
    }

    /// A plugin call that never returns (it ignores cancellation) cannot hold the stop past
    /// `limits.stop_timeout`: the daemon says what it was waiting for and exits with status 1,
    /// and a write acknowledged before is still there after the restart.
    @Test func aPluginCallThatNeverReturnsCannotHoldTheStop() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(name: "fx", isDefault: true),
                               settings: "limits: {drain_timeout: 300ms, stop_timeout: 2s}")
        let c = try d.client()
        try c.send(.request(callID: 7, method: .embed, message: EmbedRequest(inputs: [.text("fixture:hang")])))
        usleep(300_000)
        let start = Date()
        d.signal(SIGTERM)
        do { _ = try c.awaitReply(callID: 7); Issue.record("expected the hung call to be cut off") } catch {
            #expect(error.status == .unavailable, "\(error)")
        }
        #expect(d.waitForExit(timeout: 20) == 1, "\(d.log)")
        let took = Date().timeIntervalSince(start)
        #expect(took >= 1.5 && took < 8, "stopped after \(took) s; stop_timeout is 2 s")
        #expect(d.log.contains("stop did not finish within limits.stop_timeout (2 s): still waiting for the models' batcher threads"), "\(d.log)")
    }

    /// A plugin call that never returns wedges its model for good: past
    /// `limits.stuck_call_timeout` the daemon withholds its systemd watchdog pings (so systemd
    /// restarts it) and says why in the log; until then it pings as usual.
    @Test func aWedgedPluginCallWithholdsTheWatchdogPing() throws {
        let dir = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-wd.XXXXXX")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let notifyPath = dir + "/notify"
        let listener = try UnixSocket.bindDatagram(path: notifyPath)
        defer { try? listener.close() }
        try UnixSocket.setReceiveTimeout(listener, seconds: 0.3)
        let d = try TestDaemon(models: TestDaemon.fixtureModel(name: "fx", isDefault: true),
                               settings: "limits: {call_deadline: 500ms, stuck_call_timeout: 1s}",
                               env: ["NOTIFY_SOCKET": notifyPath, "WATCHDOG_USEC": "300000"])
        defer { d.signal(SIGKILL); _ = d.waitForExit(timeout: 10) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        /// Watchdog pings received within `seconds`.
        func pings(within seconds: Double) throws -> Int {
            let end = Date().addingTimeInterval(seconds)
            var n = 0
            while Date() < end {
                guard let got = try buffer.withUnsafeMutableBytes({ try UnixSocket.receive(listener, into: $0) }) else { continue }
                if String(decoding: buffer[..<got], as: UTF8.self).contains("WATCHDOG=1") { n += 1 }
            }
            return n
        }
        #expect(try pings(within: 1) >= 3, "a healthy daemon pings every WatchdogSec/2 (0.15 s)")
        let c = try d.client()
        try c.send(.request(callID: 3, method: .embed, message: EmbedRequest(inputs: [.text("fixture:hang")])))
        #expect(try pings(within: 0.6) >= 2, "the call is not wedged yet")
        #expect(!d.log.contains("running for"), "reported wedged before its time: \(d.log)")
        usleep(900_000)  // past the 1 s limit
        _ = try pings(within: 0.5)  // drain what was sent before (datagrams wait in the socket)
        #expect(try pings(within: 1.5) == 0, "\(d.log)")
        #expect(d.log.contains("model 'fx': a plugin call has been running for"), "\(d.log)")
        #expect(d.log.contains("withholding the systemd watchdog ping"))
    }

    /// A client that sends calls but never reads the replies cannot hold the shutdown past the
    /// drain timeout (its replies stay queued in the daemon); and a SIGHUP that arrives while
    /// the daemon drains is ignored (no models swapped, no RELOADING after STOPPING).
    @Test func aClientThatDoesNotReadCannotHoldTheDrain() throws {
        let d = try TestDaemon(settings: "limits: {drain_timeout: 1s}")
        let fd = try UnixSocket.connect(path: d.socketPath)
        defer { try? fd.close() }
        var stream = Frame.hello(Hello(major: 1, minor: 1, client: "no-reader")).encoded()
        for id in UInt32(1)...60_000 { stream += Frame.request(callID: id, method: .status, message: StatusRequest()).encoded() }
        _ = try? UnixSocket.sendAll(fd, stream)  // the daemon answers into a socket nobody reads
        usleep(300_000)
        let start = Date()
        d.signal(SIGTERM)
        usleep(50_000)
        d.signal(SIGHUP)
        #expect(d.waitForExit(timeout: 15) == 0, "\(d.log)")
        #expect(Date().timeIntervalSince(start) < 6, "the drain waited for a client that never reads")
        // Whether the loop sees the SIGHUP before or after it starts draining, nothing reloads.
        #expect(d.log.contains("SIGHUP ignored") || d.log.contains("reload skipped: the daemon is draining"), "\(d.log)")
        #expect(!d.log.contains("reload done"))
    }

    @Test func socketActivationThroughSystemdSocketActivate() throws {
        let tool = "/usr/bin/systemd-socket-activate"
        try #require(FileManager.default.isExecutableFile(atPath: tool), "systemd-socket-activate is missing (apt-get install systemd)")
        let dir = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-sa.XXXXXX")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let activated = dir + "/activated.sock"
        // The config names another socket path: the inherited socket must win.
        let d = try TestDaemon(launcher: [tool, "-l", activated], waitForReady: false)
        let deadline = Date().addingTimeInterval(20)
        var status: StatusResponse?
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: activated), let c = try? EmbedClient(socketPath: activated, timeoutSeconds: 10),
               let s = try? c.call(.status, StatusRequest(), as: StatusResponse.self), s.state == "serving" {
                status = s
                break
            }
            usleep(50_000)
        }
        try #require(status != nil, "no answer on the activated socket:\n\(d.log)")
        #expect(status?.socketPath == activated)
        #expect(!FileManager.default.fileExists(atPath: d.socketPath), "the daemon must not create its own socket")
        #expect(d.log.contains("socket activation: listening on \(activated)"))
        let c = try EmbedClient(socketPath: activated)
        #expect(try c.call(.embed, EmbedRequest(inputs: [.text("a")]), as: EmbedResponse.self).dim == 16)
        d.signal(SIGTERM)
        #expect(d.waitForExit() == 0)
    }

    @Test func staleSocketIsReplacedLiveSocketIsNot() throws {
        let dir = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-stale.XXXXXX")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A stale socket: what a daemon killed with SIGKILL leaves behind.
        let stale = dir + "/embedd.sock"
        let first = try runDaemonOn(socket: stale, directory: dir)
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        #expect(UnixSocket.probe(path: stale) == .stale)
        let second = try runDaemonOn(socket: stale, directory: dir)
        defer {
            second.process.terminate()
            second.process.waitUntilExit()
        }
        #expect(UnixSocket.probe(path: stale) == .live)
        // A third daemon on the live socket refuses and leaves it alone.
        let third = try runProgram(Products.embedd, ["--socket", stale, "--data-dir", dir + "/d3", "--plugins-dir", dir], timeout: 20)
        #expect(third.status == 1)
        #expect(third.stderr.contains("already listening"), "\(third.stderr)")
        #expect(UnixSocket.probe(path: stale) == .live)
        // A path that is not a socket is never replaced.
        let file = dir + "/not-a-socket"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let fourth = try runProgram(Products.embedd, ["--socket", file, "--data-dir", dir + "/d4", "--plugins-dir", dir], timeout: 20)
        #expect(fourth.status == 1 && fourth.stderr.contains("is not a socket"))
        #expect((try? String(contentsOfFile: file, encoding: .utf8)) == "x")
    }

    /// Starts a bare embedd (no config file) on `socket` and waits until it answers.
    func runDaemonOn(socket: String, directory: String) throws -> (process: Process, log: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Products.embedd)
        p.arguments = ["--socket", socket, "--data-dir", directory + "/data", "--plugins-dir", directory]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let c = try? EmbedClient(socketPath: socket, timeoutSeconds: 5), (try? c.call(.health, HealthRequest(), as: HealthResponse.self)) != nil {
                return (p, "")
            }
            usleep(20_000)
        }
        p.terminate()
        throw TestFailure("embedd on \(socket) did not answer")
    }
}
