import Glibc
import Testing
@testable import EmbedSys

@Suite struct UnixSocketTests {
    func tempDir() throws -> String { try FileSystem.makeTemporaryDirectory(template: "/tmp/embedsys-sock.XXXXXX") }

    /// The file `bind` creates takes the socket's mode (set before `bind`), not the umask's:
    /// under umask 000 a chmod after `listen` once left it world-writable for a moment.
    @Test func theSocketFileIsBornWithItsCreateModeUnderAnyUmask() throws {
        let dir = try tempDir()
        let path = dir + "/m.sock"
        let old = umask(0)
        let listener: FileDescriptor
        do { listener = try UnixSocket.listen(path: path, createMode: 0o600) } catch { umask(old); throw error }
        umask(old)
        defer { try? listener.close(); try? FileSystem.unlink(path); try? FileSystem.removeDirectory(dir) }
        var st = stat()
        #expect(lstat(path, &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o600, "socket created with mode \(String(st.st_mode & 0o7777, radix: 8))")
    }

    @Test func listenConnectAcceptAndPeerCredentials() throws {
        let dir = try tempDir()
        let path = dir + "/s.sock"
        let listener = try UnixSocket.listen(path: path)
        defer { try? listener.close(); try? FileSystem.unlink(path); try? FileSystem.removeDirectory(dir) }
        try listener.setNonBlocking(true)
        #expect(try UnixSocket.accept(listener) == nil)  // nothing pending: EAGAIN → nil
        #expect(UnixSocket.isListeningUnixStream(listener))
        #expect(UnixSocket.boundPath(listener) == path)
        let client = try UnixSocket.connect(path: path)
        defer { try? client.close() }
        let server = try #require(try UnixSocket.accept(listener))
        defer { try? server.close() }
        let cred = try UnixSocket.peerCredentials(server)
        #expect(cred.pid == Environment.processID)
        #expect(cred.uid == Environment.userID && cred.gid == Environment.groupID)
        // SO_PEERGROUPS: the supplementary groups this process holds (Linux ≥ 4.13).
        let groups = try #require(UnixSocket.peerGroups(server))
        #expect(groups.count < 65536)
        try UnixSocket.sendAll(client, Array("ping".utf8))
        var buf = [UInt8](repeating: 0, count: 16)
        // The accepted socket is non-blocking; poll first.
        var entries = [Poll.Entry(server, .readable)]
        #expect(try Poll.wait(&entries, timeoutMilliseconds: 2000) == 1)
        #expect(entries[0].returned.contains(.readable))
        let n = try buf.withUnsafeMutableBytes { try UnixSocket.receive(server, into: $0) }
        #expect(n == 4 && Array(buf[..<4]) == Array("ping".utf8))
        #expect(!UnixSocket.isListeningUnixStream(client))
    }

    @Test func probeTellsAbsentStaleLiveAndNotASocket() throws {
        let dir = try tempDir()
        defer { for f in ["live", "stale", "file"] { try? FileSystem.unlink(dir + "/" + f) }; try? FileSystem.removeDirectory(dir) }
        #expect(UnixSocket.probe(path: dir + "/none") == .absent)
        let live = try UnixSocket.listen(path: dir + "/live")
        defer { try? live.close() }
        #expect(UnixSocket.probe(path: dir + "/live") == .live)
        let stale = try UnixSocket.listen(path: dir + "/stale")
        try stale.close()
        #expect(UnixSocket.probe(path: dir + "/stale") == .stale)
        let fd = try FileDescriptor.open(dir + "/file", [.writeOnly, .create])
        try fd.close()
        #expect(UnixSocket.probe(path: dir + "/file") == .notASocket)
    }

    @Test func pathsOverTheLimitAreRefused() {
        let long = "/tmp/" + String(repeating: "x", count: 120)
        #expect(throws: Errno.self) { try UnixSocket.listen(path: long) }
        #expect(throws: Errno.self) { try UnixSocket.connect(path: long) }
    }

    @Test func sendToClosedPeerIsAnErrorNotSIGPIPE() throws {
        let (a, b) = try UnixSocket.pair()
        try b.close()
        defer { try? a.close() }
        #expect(throws: Errno.self) {
            for _ in 0..<4 { try UnixSocket.sendAll(a, [UInt8](repeating: 1, count: 65536)) }
        }
    }

    @Test func descriptorsPassWithSCMRights() throws {
        let (a, b) = try UnixSocket.pair()
        defer { try? a.close(); try? b.close() }
        let (x, y) = try UnixSocket.pair()
        defer { try? x.close(); try? y.close() }
        // DescriptorPassing is the one SCM_RIGHTS implementation (the daemon's and the clients').
        try DescriptorPassing.sendAll(a, [7], descriptors: [x])
        var byte = [UInt8](repeating: 0, count: 1)
        let got = try byte.withUnsafeMutableBytes { try DescriptorPassing.receive(b, into: $0) }
        #expect(got.count == 1 && byte[0] == 7 && !got.truncated)
        let received = got.descriptors
        try #require(received.count == 1)
        defer { try? received[0].close() }
        #expect(received[0] != x)
        // The received descriptor is the same socket: data written to it arrives at y.
        try UnixSocket.sendAll(received[0], [42])
        var buf = [UInt8](repeating: 0, count: 1)
        let n = try buf.withUnsafeMutableBytes { try UnixSocket.receive(y, into: $0) }
        #expect(n == 1 && buf[0] == 42)
    }
}
