import Testing
import EmbedHTTP

/// Feeds `bytes` to a scanner one growing prefix at a time (as a slow client sends it) and
/// parses the head once it is whole.
func parseIncrementally(_ bytes: [UInt8], splitAt split: Int, limits: HTTPLimits = HTTPLimits()) throws -> (HTTPRequestHead, Int)? {
    var scanner = HTTPHeadScanner(maxHeadBytes: limits.maxHeadBytes)
    return try bytes.withUnsafeBytes { raw -> (HTTPRequestHead, Int)? in
        if try scanner.scan(UnsafeRawBufferPointer(rebasing: raw[0..<split])) != nil {
            // The head may already be complete in the first part.
        }
        guard let range = try scanner.scan(raw) else { return nil }
        return (try HTTPRequestHead.parse(head: raw[range], limits: limits), range.upperBound)
    }
}

func parseError(_ text: String, limits: HTTPLimits = HTTPLimits()) -> HTTPError? {
    do { _ = try HTTPRequestHead.parse(Array(text.utf8), limits: limits); return nil } catch { return error }
}

@Suite struct RequestHeadTests {
    let sample = "POST /v1/embeddings?x=1 HTTP/1.1\r\nHost: localhost:8080\r\nContent-Type: application/json\r\n"
        + "Content-Length: 13\r\nX-Empty:\r\nAuthorization:  Bearer k1 \r\n\r\n{\"input\":\"a\"}"

    @Test func parsesAWholeRequestHead() throws {
        let (head, length) = try #require(try HTTPRequestHead.parse(Array(sample.utf8)))
        #expect(head.method == "POST")
        #expect(head.target == "/v1/embeddings?x=1")
        #expect(head.path == "/v1/embeddings")
        #expect(head.query == "x=1")
        #expect(head.version == .http11)
        #expect(head.headers["content-type"] == "application/json")
        #expect(head.headers["AUTHORIZATION"] == "Bearer k1")
        #expect(head.headers["X-Empty"] == "")
        #expect(head.framing == .length(13))
        #expect(head.keepAlive)
        #expect(String(decoding: Array(sample.utf8)[length...], as: UTF8.self) == "{\"input\":\"a\"}")
    }

    /// Every split point gives the same head: the scanner resumes where it stopped.
    @Test func splitAtEveryByteGivesTheSameHead() throws {
        let bytes = Array(sample.utf8)
        let (whole, wholeLength) = try #require(try HTTPRequestHead.parse(bytes))
        for split in 0...bytes.count {
            let (head, length) = try #require(try parseIncrementally(bytes, splitAt: split), "split at \(split)")
            #expect(head == whole && length == wholeLength, "split at \(split)")
        }
    }

    /// One byte at a time, the scanner says "need more" until the last byte of the blank line.
    @Test func oneByteAtATimeNeedsMoreUntilTheBlankLine() throws {
        let bytes = Array(sample.utf8)
        let headEnd = try #require(try HTTPRequestHead.parse(bytes)).length
        var scanner = HTTPHeadScanner(maxHeadBytes: 16 * 1024)
        try bytes.withUnsafeBytes { raw in
            for n in 1...headEnd {
                let found = try scanner.scan(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
                #expect((found != nil) == (n == headEnd), "after \(n) bytes")
                if found != nil { #expect(found == 0..<headEnd) }
            }
        }
    }

    @Test func incompleteHeadsNeedMoreBytes() throws {
        for text in ["", "GET", "GET / HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r"] {
            #expect(try HTTPRequestHead.parse(Array(text.utf8)) == nil, "\(text.debugDescription)")
        }
    }

    @Test func leadingEmptyLinesAreSkipped() throws {
        let (head, length) = try #require(try HTTPRequestHead.parse(Array("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)))
        #expect(head.method == "GET" && head.path == "/" && length == 31)
        #expect(head.framing == .length(0))
    }

    @Test func pipelinedRequestsParseOneAfterAnother() throws {
        let two = Array("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
        let (first, n) = try #require(try HTTPRequestHead.parse(two))
        let (second, m) = try #require(try HTTPRequestHead.parse(Array(two[n...])))
        #expect(first.path == "/a" && second.path == "/b" && n + m == two.count)
    }

    @Test func malformedStartLinesAre400() {
        let cases = [
            "GET\r\nHost: a\r\n\r\n",                       // no spaces
            "GET /\r\nHost: a\r\n\r\n",                     // no version
            "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",           // two spaces: empty target
            "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",            // not a token
            "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",           // trailing space
            "GET / HTTX/1.1\r\nHost: a\r\n\r\n",
            "GET /a\u{7F}b HTTP/1.1\r\nHost: a\r\n\r\n",    // DEL in the target
            "GET / HTTP/1.1\rX\r\nHost: a\r\n\r\n",         // stray CR
            "\r\r\n",                                        // CR not followed by LF before the start line
        ]
        for text in cases {
            let error = parseError(text)
            #expect(error?.status == 400, "\(text.debugDescription) gave \(String(describing: error))")
        }
    }

    @Test func otherHTTPVersionsAre505() {
        #expect(parseError("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == .unsupportedVersion("HTTP/2.0"))
        #expect(parseError("GET / HTTP/0.9\r\n\r\n")?.status == 505)
    }

    @Test func bareLineFeedsAreRefusedAtOnce() {
        // Refused as soon as the LF arrives, not after a head timeout.
        #expect(parseError("GET / HTTP/1.1\n") == .bareLineFeed)
        #expect(parseError("GET / HTTP/1.1\r\nHost: a\n\n") == .bareLineFeed)
        #expect(parseError("\nGET / HTTP/1.1\r\n") == .bareLineFeed)
    }

    @Test func malformedHeaderFieldsAre400() {
        let cases = [
            "GET / HTTP/1.1\r\nHost : a\r\n\r\n",              // space before the colon
            "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",    // obs-fold
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n", // NUL in a value
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",    // CR in a value
            "GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n",
        ]
        for text in cases {
            let error = parseError(text)
            #expect(error?.status == 400, "\(text.debugDescription) gave \(String(describing: error))")
        }
    }

    @Test func headSizeAndFieldCountLimitsAre431() {
        let limits = HTTPLimits(maxHeadBytes: 64, maxHeaderCount: 3)
        let long = "GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\n"
        #expect(parseError(long, limits: limits) == .headTooLarge(limit: 64))
        #expect(parseError(long, limits: limits)?.status == 431)
        // Refused before the blank line arrives: a client cannot make us buffer forever.
        #expect(parseError(String(repeating: "\r\n", count: 40), limits: limits) == .headTooLarge(limit: 64))
        let many = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        #expect(parseError(many, limits: limits) == .tooManyHeaders(limit: 3))
        #expect(parseError(many, limits: limits)?.status == 431)
        // Exactly at the limits is fine.
        let exact = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n"
        #expect(parseError(exact, limits: HTTPLimits(maxHeadBytes: exact.utf8.count, maxHeaderCount: 3)) == nil)
        #expect(parseError(exact, limits: HTTPLimits(maxHeadBytes: exact.utf8.count - 1, maxHeaderCount: 3)) == .headTooLarge(limit: exact.utf8.count - 1))
    }

    @Test func http11NeedsExactlyOneHost() {
        #expect(parseError("GET / HTTP/1.1\r\n\r\n") == .missingHost)
        #expect(parseError("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == .missingHost)
        #expect(parseError("GET / HTTP/1.0\r\n\r\n") == nil)
    }

    @Test func absoluteFormTargetsGiveTheirPath() throws {
        let (head, _) = try #require(try HTTPRequestHead.parse(Array("GET http://h:1/v1/models?a HTTP/1.1\r\nHost: h\r\n\r\n".utf8)))
        #expect(head.path == "/v1/models")
        #expect(head.query == "a")
    }

    @Test func keepAliveFollowsVersionAndConnection() throws {
        func keepAlive(_ text: String) throws -> Bool { try #require(try HTTPRequestHead.parse(Array(text.utf8))).head.keepAlive }
        #expect(try keepAlive("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(try !keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
        #expect(try !keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n"))
        #expect(try !keepAlive("GET / HTTP/1.0\r\n\r\n"))
        #expect(try keepAlive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"))
    }

    @Test func expectContinueIsRecognised() throws {
        let head = try #require(try HTTPRequestHead.parse(Array("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n".utf8))).head
        #expect(head.expectsContinue)
    }
}
