import Glibc
import Testing
@testable import EmbedSys

@Suite struct TCPSocketTests {
    @Test func endpointsParse() {
        #expect(TCPEndpoint(parsing: "127.0.0.1:8080") == TCPEndpoint(host: "127.0.0.1", port: 8080))
        #expect(TCPEndpoint(parsing: "[::1]:80") == TCPEndpoint(host: "::1", port: 80))
        #expect(TCPEndpoint(parsing: "localhost:19530")?.family == .ipv4)
        #expect(TCPEndpoint(parsing: "0.0.0.0:0")?.port == 0)
        #expect(TCPEndpoint(parsing: "[::]:8080")?.description == "[::]:8080")
        for bad in ["127.0.0.1", "127.0.0.1:", ":80", "::1:80", "[::1]80", "[127.0.0.1]:80", "1.2.3.4:65536", "1.2.3.4:-1",
                    "example.com:80", "1.2.3:80", "1.2.3.4:8 0", "[::1:80"] {
            #expect(TCPEndpoint(parsing: bad) == nil, "\(bad)")
        }
    }

    func roundTrip(_ host: String) throws {
        let listener = try TCPSocket.listen(TCPEndpoint(host: host, port: 0))
        defer { try? listener.close() }
        #expect(TCPSocket.isListeningTCP(listener))
        #expect(!UnixSocket.isListeningUnixStream(listener))
        let bound = try #require(TCPSocket.localEndpoint(listener))
        #expect(bound.port != 0)
        try listener.setNonBlocking(true)
        #expect(try TCPSocket.accept(listener) == nil)
        let client = try TCPSocket.connect(bound, timeoutMilliseconds: 2000)
        defer { try? client.close() }
        let server = try #require(try TCPSocket.accept(listener))
        defer { try? server.close() }
        #expect(TCPSocket.peerEndpoint(server)?.port == TCPSocket.localEndpoint(client)?.port)
        try UnixSocket.sendAll(client, Array("ping".utf8))
        var buffer = [UInt8](repeating: 0, count: 16)
        try server.setNonBlocking(false)
        let n = try buffer.withUnsafeMutableBytes { try UnixSocket.receive(server, into: $0) }
        #expect(n == 4 && Array(buffer[0..<4]) == Array("ping".utf8))
        var nodelay: Int32 = 0
        var len = socklen_t(4)
        #expect(getsockopt(client.rawValue, Int32(IPPROTO_TCP), TCP_NODELAY, &nodelay, &len) == 0 && nodelay == 1)
    }

    @Test func listenConnectAcceptOverIPv4() throws { try roundTrip("127.0.0.1") }

    @Test func listenConnectAcceptOverIPv6() throws {
        // Some containers have no IPv6 loopback; only then is there nothing to test.
        guard (try? TCPSocket.listen(TCPEndpoint(host: "::1", port: 0)))
            .map({ try? $0.close(); return true }) ?? false else { return }
        try roundTrip("::1")
    }

    @Test func connectingToAClosedPortIsRefused() throws {
        let listener = try TCPSocket.listen(TCPEndpoint(host: "127.0.0.1", port: 0))
        let bound = try #require(TCPSocket.localEndpoint(listener))
        try listener.close()
        #expect(throws: Errno.connectionRefused) { try TCPSocket.connect(bound, timeoutMilliseconds: 2000) }
    }

    @Test func aBoundPortCannotBeBoundTwice() throws {
        let listener = try TCPSocket.listen(TCPEndpoint(host: "127.0.0.1", port: 0))
        defer { try? listener.close() }
        let bound = try #require(TCPSocket.localEndpoint(listener))
        #expect(throws: Errno.addressInUse) { try TCPSocket.listen(bound) }
    }
}
