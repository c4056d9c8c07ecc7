import Testing
@testable import EmbedWire

@Suite struct FrameCodecTests {
    let decoder = FrameDecoder(maxPayloadBytes: 1 << 20)

    @Test func headerLayoutIsByteExact() {
        let frame = Frame.request(callID: 0x0102_0304, method: .embed, deadlineMilliseconds: 5000,
                                  message: EmbedRequest(model: "m", inputs: [.text("hi")]))
        let bytes = frame.encoded()
        #expect(Array(bytes.prefix(16)) == [0, 0, 0, 9, 2, 1, 0, 5, 1, 2, 3, 4, 0, 0, 0x13, 0x88])
        #expect(bytes.count == 25)
    }

    @Test func roundTripsEveryKind() throws {
        let frames: [Frame] = [
            .hello(Hello(major: 1, client: "t")),
            .request(callID: 7, method: .health, message: HealthRequest()),
            .response(callID: 7, method: .health, message: HealthResponse(status: .serving)),
            .failure(callID: 8, method: .loadPlugin, status: .permissionDenied, message: "no"),
            .cancel(callID: 9),
            .goAway(status: .unavailable, message: "draining"),
        ]
        var stream: [UInt8] = []
        for f in frames { f.encode(into: &stream) }
        var offset = 0
        var decoded: [Frame] = []
        while let (frame, used) = try decoder.decode(stream, from: offset) {
            decoded.append(frame)
            offset += used
        }
        #expect(decoded == frames)
        #expect(offset == stream.count)
        let status = try decoded[3].decodePayload(as: RpcStatus.self)
        #expect(decoded[3].status == .permissionDenied && status.code == 7 && status.message == "no")
    }

    @Test func returnsNilUntilWholeFrameArrives() throws {
        let bytes = Frame.request(callID: 1, method: .embed, message: EmbedRequest(model: "abc")).encoded()
        for cut in 0..<bytes.count {
            #expect(try decoder.decode(Array(bytes.prefix(cut))) == nil)
        }
        #expect(try decoder.decode(bytes)?.consumed == bytes.count)
    }

    @Test func rejectsOversizedAndUnknownFramesFromHeaderAlone() {
        let small = FrameDecoder(maxPayloadBytes: 8)
        var header: [UInt8] = [0, 0, 0, 9, 2, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]
        #expect(throws: WireError.frameTooLarge(length: 9, limit: 8)) { try small.decode(header) }
        header[3] = 0; header[4] = 0x42
        #expect(throws: WireError.unknownFrameKind(0x42)) { try small.decode(header) }
        // A header with length 0xFFFFFFFF must fail immediately, not wait for 4 GiB.
        #expect(throws: WireError.self) { try small.decode([0xFF, 0xFF, 0xFF, 0xFF, 2, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]) }
    }

    @Test func statusAndMethodNames() {
        #expect(StatusCode.permissionDenied.description == "PERMISSION_DENIED")
        #expect(StatusCode(rawValue: 99).description == "CODE_99")
        #expect(MethodID.search.description == "Search")
        #expect(MethodID(rawValue: 500).description == "method-500")
    }

    @Test func randomBytesNeverTrap() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let n = Int.random(in: 0..<64, using: &rng)
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? decoder.decode(bytes)
            _ = try? EmbedRequest(serializedBytes: bytes)
            _ = try? StatusResponse(serializedBytes: bytes)
            _ = try? LoadModelRequest(serializedBytes: bytes)
        }
    }
}

/// The worked example of docs/protocol.md, byte for byte: if this fails, fix the document too.
@Suite struct ProtocolDocumentExampleTests {
    static func hex(_ s: String) -> [UInt8] { s.split(separator: " ").map { UInt8($0, radix: 16)! } }

    @Test func helloFrames() {
        #expect(Frame.hello(Hello(major: 1, minor: 0, client: "embedctl/0.1")).encoded() == Self.hex(
            "00 00 00 10 01 01 00 00 00 00 00 00 00 00 00 00 08 01 1a 0c 65 6d 62 65 64 63 74 6c 2f 30 2e 31"))
        #expect(Frame.hello(HelloReply(major: 1, minor: 0, server: "embedd/0.1.0", maxFrameBytes: 64 << 20, maxCallsInFlight: 64,
                                       idleTimeoutMs: 300_000, defaultDeadlineMs: 60_000)).encoded() == Self.hex(
            "00 00 00 1f 01 01 00 00 00 00 00 00 00 00 00 00 08 01 1a 0c 65 6d 62 65 64 64 2f 30 2e 31 2e 30 20 80 80 80 20 28 40 30 e0 a7 12 38 e0 d4 03"))
    }

    @Test func embedCallAndReplies() {
        #expect(Frame.request(callID: 1, method: .embed, deadlineMilliseconds: 5000,
                              message: EmbedRequest(model: "all-MiniLM-L6-v2", inputs: [.text("hello")])).encoded() == Self.hex(
            "00 00 00 1b 02 01 00 05 00 00 00 01 00 00 13 88 0a 10 61 6c 6c 2d 4d 69 6e 69 4c 4d 2d 4c 36 2d 76 32 12 07 0a 05 68 65 6c 6c 6f"))
        #expect(Frame.response(callID: 1, method: .embed, message: EmbedResponse(
            model: "all-MiniLM-L6-v2", dim: 3, vectors: [Vector(values: [0.5, -0.25, 1])], modelVersion: "v1", generation: 1)).encoded() == Self.hex(
            "00 00 00 2a 03 01 00 05 00 00 00 01 00 00 00 00 0a 10 61 6c 6c 2d 4d 69 6e 69 4c 4d 2d 4c 36 2d 76 32 10 03 1a 0e 0a 0c 00 00 00 3f 00 00 80 be 00 00 80 3f 22 02 76 31 28 01"))
        #expect(Frame.failure(callID: 2, method: .embed, status: .notFound, message: "no model named 'x'").encoded() == Self.hex(
            "00 00 00 16 03 01 00 05 00 00 00 02 00 00 00 05 08 05 12 12 6e 6f 20 6d 6f 64 65 6c 20 6e 61 6d 65 64 20 27 78 27"))
        #expect(Frame.cancel(callID: 1).encoded() == Self.hex("00 00 00 00 04 01 00 00 00 00 00 01 00 00 00 00"))
    }
}
