import Testing
import EmbedHTTP

@Suite struct ResponseTests {
    @Test func serialisedResponsesParseBack() throws {
        let head = HTTPResponseHead(status: 404, headers: ["Content-Type": "application/json"])
        let bytes = head.serialized(body: Array("{}".utf8))
        #expect(String(decoding: bytes, as: UTF8.self) == "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        for split in 0...bytes.count {
            var scanner = HTTPHeadScanner(maxHeadBytes: 1024)
            let range: Range<Int>? = try bytes.withUnsafeBytes { raw in
                _ = try scanner.scan(UnsafeRawBufferPointer(rebasing: raw[0..<split]))
                return try scanner.scan(raw)
            }
            let r = try #require(range)
            let parsed = try bytes.withUnsafeBytes { try HTTPResponseHead.parse(head: $0[r], limits: HTTPLimits()) }
            #expect(parsed.status == 404 && parsed.reason == "Not Found" && parsed.headers["content-length"] == "2")
            #expect(try parsed.framing(requestMethod: "POST") == .length(2))
        }
    }

    @Test func statusLinesAndFraming() throws {
        func parse(_ text: String) throws -> HTTPResponseHead { try #require(try HTTPResponseHead.parse(Array(text.utf8))).head }
        let ok = try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(ok.status == 200 && ok.keepAlive)
        #expect(try ok.framing(requestMethod: "GET") == .chunked)
        let noReason = try parse("HTTP/1.1 204\r\n\r\n")
        #expect(noReason.status == 204 && noReason.reason == "")
        #expect(try noReason.framing(requestMethod: "GET") == .length(0))
        let closing = try parse("HTTP/1.0 200 OK\r\n\r\n")
        #expect(!closing.keepAlive)
        #expect(try closing.framing(requestMethod: "GET") == .untilClose)
        let head = try parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
        #expect(try head.framing(requestMethod: "HEAD") == .length(0))
        #expect(throws: HTTPError.self) { try parse("HTTP/1.1 20 OK\r\n\r\n") }
        #expect(throws: HTTPError.self) { try parse("HTTP/1.1 2000 OK\r\n\r\n") }
        #expect(throws: HTTPError.self) { try parse("ICY 200 OK\r\n\r\n") }
        #expect(throws: HTTPError.conflictingFraming) {
            try parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n").framing(requestMethod: "GET")
        }
    }

    @Test func requestsSerialiseWithTheirLength() throws {
        let head = HTTPRequestHead(method: "POST", target: "/v2/vectordb/entities/insert", headers: ["Host": "localhost:19530"])
        let bytes = head.serialized(body: Array("{\"a\":1}".utf8))
        let (parsed, length) = try #require(try HTTPRequestHead.parse(bytes))
        #expect(parsed.method == "POST" && parsed.path == "/v2/vectordb/entities/insert" && parsed.framing == .length(7))
        #expect(Array(bytes[length...]) == Array("{\"a\":1}".utf8))
        let get = HTTPRequestHead(method: "GET", target: "/health", headers: ["Host": "h"]).serialized()
        #expect(String(decoding: get, as: UTF8.self) == "GET /health HTTP/1.1\r\nHost: h\r\n\r\n")
    }

    /// A value with CR/LF from a caller's string cannot add a field.
    @Test func headerValuesCannotInjectFields() {
        let head = HTTPResponseHead(status: 200, headers: ["X": "a\r\nSet-Cookie: b"])
        let text = String(decoding: head.serialized(), as: UTF8.self)
        #expect(text.contains("X: aSet-Cookie: b\r\n"))
    }

    @Test func headersLookUpCaseInsensitively() {
        var headers: HTTPHeaders = ["Content-Type": "a", "X-Y": "1"]
        headers.append("x-y", "2")
        #expect(headers["content-TYPE"] == "a")
        #expect(headers.values("X-y") == ["1", "2"])
        headers.set("X-Y", "3")
        #expect(headers.values("x-y") == ["3"] && headers.count == 2)
        headers.append("Connection", "keep-alive, Upgrade")
        #expect(headers.tokens("connection") == ["keep-alive", "upgrade"])
        #expect(headers.contains("Connection", token: "UPGRADE"))
    }
}
