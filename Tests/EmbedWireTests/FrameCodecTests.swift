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
