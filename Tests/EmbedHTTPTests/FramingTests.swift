import Testing
import EmbedHTTP

@Suite struct FramingTests {
    func framing(_ fields: String, version: String = "HTTP/1.1", limits: HTTPLimits = HTTPLimits()) throws -> HTTPBodyFraming {
        try #require(try HTTPRequestHead.parse(Array("POST / \(version)\r\nHost: a\r\n\(fields)\r\n".utf8), limits: limits)).head.framing
    }
    func error(_ fields: String, version: String = "HTTP/1.1", limits: HTTPLimits = HTTPLimits()) -> HTTPError? {
        do { _ = try framing(fields, version: version, limits: limits); return nil } catch let e as HTTPError { return e } catch { return nil }
    }

    @Test func contentLengthAndNoBody() throws {
        #expect(try framing("") == .length(0))
        #expect(try framing("Content-Length: 0\r\n") == .length(0))
        #expect(try framing("Content-Length: 42\r\n") == .length(42))
        #expect(try framing("Transfer-Encoding: chunked\r\n") == .chunked)
        #expect(try framing("Transfer-Encoding: Chunked\r\n") == .chunked)
    }

    /// The request-smuggling cases of RFC 9112 §6.3 and §11.2.
    @Test func ambiguousFramingIsRefused() {
        #expect(error("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") == .conflictingFraming)
        #expect(error("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n") == .conflictingFraming)
        #expect(error("Content-Length: 5\r\nContent-Length: 6\r\n")?.status == 400)
        #expect(error("Content-Length: 5, 6\r\n")?.status == 400)
        #expect(error("Content-Length: +5\r\n")?.status == 400)
        #expect(error("Content-Length: -1\r\n")?.status == 400)
        #expect(error("Content-Length: 0x10\r\n")?.status == 400)
        #expect(error("Content-Length: 5 5\r\n")?.status == 400)
        #expect(error("Content-Length:\r\n")?.status == 400)
        #expect(error("Content-Length: 99999999999999999999999\r\n")?.status == 400)
        #expect(error("Transfer-Encoding: gzip, chunked\r\n") == .unsupportedTransferEncoding("gzip, chunked"))
        #expect(error("Transfer-Encoding: chunked, chunked\r\n")?.status == 501)
        #expect(error("Transfer-Encoding: identity\r\n")?.status == 501)
        #expect(error("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n")?.status == 501)
        #expect(error("Transfer-Encoding: chunked\r\n", version: "HTTP/1.0") == .transferEncodingInHTTP10)
    }

    /// Identical duplicates say one thing (RFC 9110 §8.6 lets a recipient accept them).
    @Test func identicalContentLengthsAreOneLength() throws {
        #expect(try framing("Content-Length: 7\r\nContent-Length: 7\r\n") == .length(7))
        #expect(try framing("Content-Length: 7, 7\r\n") == .length(7))
    }

    @Test func aDeclaredBodyOverTheLimitIs413BeforeReadingIt() {
        let limits = HTTPLimits(maxBodyBytes: 100)
        #expect(error("Content-Length: 101\r\n", limits: limits) == .bodyTooLarge(limit: 100))
        #expect(error("Content-Length: 101\r\n", limits: limits)?.status == 413)
        #expect(error("Content-Length: 100\r\n", limits: limits) == nil)
    }
}
