import Testing
import EmbedHTTP

@Suite struct BodyDecoderTests {
    /// Decodes `input` fed in two parts split at `split`; returns the body and the bytes used.
    func decode(_ input: [UInt8], framing: HTTPBodyFraming, split: Int, max: Int = 1 << 20) throws -> ([UInt8], Int, Bool) {
        var decoder = HTTPBodyDecoder(framing: framing, maxBodyBytes: max)
        var body: [UInt8] = []
        var used = try decoder.decode(Array(input[0..<split]), into: &body)
        if !decoder.isComplete {
            #expect(used == split)
            used += try decoder.decode(Array(input[split...]), into: &body)
        }
        return (body, used, decoder.isComplete)
    }

    @Test func contentLengthStopsAtTheLengthAtEverySplit() throws {
        let input = Array("hello worldGET /next".utf8)
        for split in 0...input.count {
            let (body, used, done) = try decode(input, framing: .length(11), split: split)
            #expect(String(decoding: body, as: UTF8.self) == "hello world" && used == 11 && done, "split \(split)")
        }
    }

    @Test func chunkedDecodesAtEverySplit() throws {
        let input = Array("5;ext=1\r\nhello\r\n6\r\n world\r\nA \r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nNEXT".utf8)
        for split in 0...input.count {
            let (body, used, done) = try decode(input, framing: .chunked, split: split)
            #expect(String(decoding: body, as: UTF8.self) == "hello world0123456789", "split \(split)")
            #expect(used == input.count - 4 && done, "split \(split)")
        }
    }

    @Test func chunkedOneByteAtATime() throws {
        let input = Array("3\r\nabc\r\n0\r\n\r\n".utf8)
        var decoder = HTTPBodyDecoder(framing: .chunked, maxBodyBytes: 100)
        var body: [UInt8] = []
        for (i, b) in input.enumerated() {
            #expect(!decoder.isComplete, "complete early at \(i)")
            #expect(try decoder.decode([b], into: &body) == 1)
        }
        #expect(decoder.isComplete && body == Array("abc".utf8))
    }

    @Test func malformedChunksAreRefused() {
        let cases = [
            "x\r\n",                  // not hex
            "\r\n",                   // no size
            "3\r\nabcd\r\n",          // data longer than its size
            "3\r\nabc\rx",            // data not followed by CRLF
            "3\nabc",                 // bare LF after the size
            "3\rX",                   // CR not followed by LF
            "1234567890123456\r\n",   // 16 hex digits
            "0\r\nTrailer: x\n",      // bare LF in the trailer
            "0\r\n\rX",               // final CR not followed by LF
            "3;\u{1}\r\n",            // control byte in an extension
        ]
        for text in cases {
            var decoder = HTTPBodyDecoder(framing: .chunked, maxBodyBytes: 1 << 40)
            var body: [UInt8] = []
            #expect(throws: HTTPError.self, "\(text.debugDescription)") { _ = try decoder.decode(Array(text.utf8), into: &body) }
        }
    }

    @Test func chunkedBodiesOverTheLimitAre413() {
        var decoder = HTTPBodyDecoder(framing: .chunked, maxBodyBytes: 10)
        var body: [UInt8] = []
        // Refused at the size line, before any data is buffered.
        #expect(throws: HTTPError.bodyTooLarge(limit: 10)) { _ = try decoder.decode(Array("6\r\nabcdef\r\n5\r\n".utf8), into: &body) }
        #expect(body.count == 6)
    }

    @Test func untilCloseEndsAtFinish() throws {
        var decoder = HTTPBodyDecoder(framing: .untilClose, maxBodyBytes: 10)
        var body: [UInt8] = []
        #expect(try decoder.decode(Array("abc".utf8), into: &body) == 3)
        #expect(!decoder.isComplete)
        try decoder.finish()
        #expect(decoder.isComplete && body == Array("abc".utf8))
        var big = HTTPBodyDecoder(framing: .untilClose, maxBodyBytes: 2)
        #expect(throws: HTTPError.bodyTooLarge(limit: 2)) { _ = try big.decode(Array("abc".utf8), into: &body) }
    }

    @Test func aTruncatedBodyIsAnErrorAtFinish() throws {
        var decoder = HTTPBodyDecoder(framing: .length(5), maxBodyBytes: 10)
        var body: [UInt8] = []
        _ = try decoder.decode(Array("ab".utf8), into: &body)
        #expect(throws: HTTPError.truncatedMessage) { try decoder.finish() }
    }

    @Test func theChunkedEncoderRoundTrips() throws {
        var out: [UInt8] = []
        HTTPChunkedEncoder.chunk(Array("hello ".utf8), into: &out)
        HTTPChunkedEncoder.chunk([], into: &out)
        HTTPChunkedEncoder.chunk(Array(repeating: 65, count: 300), into: &out)
        out += HTTPChunkedEncoder.end
        var decoder = HTTPBodyDecoder(framing: .chunked, maxBodyBytes: 1000)
        var body: [UInt8] = []
        #expect(try decoder.decode(out, into: &body) == out.count)
        #expect(decoder.isComplete && body == Array("hello ".utf8) + Array(repeating: 65, count: 300))
    }
}
