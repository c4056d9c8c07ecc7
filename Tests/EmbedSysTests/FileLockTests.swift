import EmbedSys
import Testing

@Suite struct FileLockTests {
    @Test func secondLockFailsUntilFirstIsReleased() throws {
        let path = "/tmp/embedsys-lock-\(Environment.processID)"
        defer { try? FileSystem.unlink(path) }
        var first: FileLock? = try FileLock(path: path)
        #expect(first != nil)
        #expect(throws: Errno.self) { try FileLock(path: path) }
        first = nil
        _ = try FileLock(path: path)
    }

    @Test func childProcessIsKilledAndReaped() throws {
        let child = try ChildProcess.spawn("/bin/sleep", arguments: ["5"])
        try child.send(signal: ChildProcess.killSignal)
        #expect(try child.wait() == .signalled(ChildProcess.killSignal))
        let ok = try ChildProcess.spawn("/bin/true", arguments: [])
        #expect(try ok.wait() == .exited(0))
    }
}
