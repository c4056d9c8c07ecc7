import Testing
@testable import EmbedSys

@Suite struct SdNotifyTests {
    func tempDir() throws -> String { try FileSystem.makeTemporaryDirectory(template: "/tmp/embedsys-notify.XXXXXX") }

    @Test func datagramsForSdNotify() throws {
        let dir = try tempDir()
        let path = dir + "/notify"
        let listener = try UnixSocket.bindDatagram(path: path)
        defer { try? listener.close(); try? FileSystem.unlink(path); try? FileSystem.removeDirectory(dir) }
        try UnixSocket.setReceiveTimeout(listener, seconds: 2)
        let notify = SdNotify(socketPath: path)
        #expect(notify.isEnabled)
        #expect(notify.ready(status: "serving 2 model(s)") == nil)
        #expect(notify.watchdog() == nil)
        #expect(notify.reloading(status: "r") == nil)
        var buf = [UInt8](repeating: 0, count: 512)
        func next() throws -> String {
            let n = try buf.withUnsafeMutableBytes { try UnixSocket.receive(listener, into: $0) } ?? 0
            return String(decoding: buf[..<n], as: UTF8.self)
        }
        #expect(try next() == "READY=1\nSTATUS=serving 2 model(s)")
        #expect(try next() == "WATCHDOG=1")
        let reloading = try next()
        #expect(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") && reloading.hasSuffix("\nSTATUS=r"))
        // Status text stays one assignment: a newline (a quoted config value) cannot add another.
        #expect(notify.status("reload failed: \"x\nWATCHDOG_USEC=1\"") == nil)
        #expect(try next() == "STATUS=reload failed: \"x WATCHDOG_USEC=1\"")
        // No socket configured: a no-op; an unreachable socket: an error returned, not thrown.
        #expect(SdNotify(socketPath: nil).ready(status: "x") == nil)
        #expect(SdNotify(socketPath: dir + "/missing").ready(status: "x") != nil)
    }

    @Test func abstractNamespaceDatagram() throws {
        let name = "@embedsys-test-\(Environment.processID)-\(UInt32.random(in: 0...UInt32.max))"
        let listener = try UnixSocket.bindDatagram(path: name)
        defer { try? listener.close() }
        try UnixSocket.setReceiveTimeout(listener, seconds: 2)
        #expect(SdNotify(socketPath: name).send("STOPPING=1") == nil)
        var buf = [UInt8](repeating: 0, count: 64)
        let n = try buf.withUnsafeMutableBytes { try UnixSocket.receive(listener, into: $0) } ?? 0
        #expect(String(decoding: buf[..<n], as: UTF8.self) == "STOPPING=1")
    }
    // Pure forms only: setenv while other test threads read the environment is a data race.
    @Test func listenDescriptorsOnlyForThisProcess() {
        #expect(SdNotify.listenDescriptors(pid: "1", count: "2", ourPID: 77).isEmpty)
        #expect(SdNotify.listenDescriptors(pid: "77", count: "2", ourPID: 77).map(\.rawValue) == [3, 4])
        #expect(SdNotify.listenDescriptors(pid: "77", count: "x", ourPID: 77).isEmpty)
        #expect(SdNotify.listenDescriptors(pid: nil, count: "1", ourPID: 77).isEmpty)
    }

    @Test func watchdogInterval() {
        #expect(SdNotify.watchdogInterval(usec: "30000000", pid: nil, ourPID: 5) == 30)
        #expect(SdNotify.watchdogInterval(usec: "30000000", pid: "1", ourPID: 5) == nil)
        #expect(SdNotify.watchdogInterval(usec: "30000000", pid: "5", ourPID: 5) == 30)
        #expect(SdNotify.watchdogInterval(usec: nil, pid: nil, ourPID: 5) == nil)
        #expect(SdNotify.watchdogInterval(usec: "0", pid: nil, ourPID: 5) == nil)
    }
}
