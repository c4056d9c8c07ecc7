import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Synchronization
import Testing

/// The framing rules against a running daemon: pipelining, replies in any order,
/// cancellation, deadlines, limits, and malformed input closing only its own connection.
@Suite struct ProtocolTests {
    static let slowModel = TestDaemon.fixtureModel(name: "fx", isDefault: true)
        + TestDaemon.fixtureModel(name: "slow", options: ["delay_us": "100000"])

    @Test func manyCallsInFlightAnswerInAnyOrder() throws {
        let d = try TestDaemon(models: Self.slowModel)
        let c = try d.client()
        // A slow embed (5 inputs × 100 ms) first, then fast calls on the same connection.
        try c.send(.request(callID: 100, method: .embed, message: EmbedRequest(model: "slow", inputs: (0..<5).map { .text("s\($0)") })))
        try c.send(.request(callID: 101, method: .health, message: HealthRequest()))
        try c.send(.request(callID: 102, method: .embed, message: EmbedRequest(inputs: [.text("fast")])))
        var order: [UInt32] = []
        for _ in 0..<3 {
            let f = try c.nextFrame()
            #expect(f.kind == .response && f.status == .ok, "\(f.callID): \(f.status)")
            order.append(f.callID)
        }
        #expect(order.last == 100, "the slow call should answer last, got \(order)")
        #expect(Set(order) == [100, 101, 102])
        d.stop()
    }

    /// A client that sends its calls and shuts down its write side gets every reply, then the
    /// end of the stream promptly: replies written by workers still close the connection once
    /// the last call is answered (the event loop is woken for that bookkeeping).
    @Test func halfClosedConnectionGetsEveryReplyThenEOF() throws {
        let d = try TestDaemon(models: Self.slowModel)
        let fd = try UnixSocket.connect(path: d.socketPath)
        defer { try? fd.close() }
        try UnixSocket.setReceiveTimeout(fd, seconds: 10)
        var stream = Frame.hello(Hello(major: 1, minor: 0, client: "half-close")).encoded()
        for i in 0..<6 {
            let model = i % 2 == 0 ? "slow" : "fx"
            stream += Frame.request(callID: UInt32(10 + i), method: .embed,
                                    message: EmbedRequest(model: model, inputs: [.text("t\(i)")])).encoded()
        }
        stream += Frame.request(callID: 20, method: .health, message: HealthRequest()).encoded()
        try UnixSocket.sendAll(fd, stream)
        UnixSocket.shutdownWrite(fd)
        let start = Date()
        var received: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let r = buf.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try UnixSocket.receive(fd, into: raw) } }
            guard case .success(let got?) = r, got > 0 else { break }
            received += buf[..<got]
        }
        let elapsed = Date().timeIntervalSince(start)
        var ids: [UInt32] = []
        var offset = 0
        let decoder = FrameDecoder(maxPayloadBytes: 1 << 20)
        while let (frame, used) = try decoder.decode(received, from: offset) {
            if frame.kind == .response {
                #expect(frame.status == .ok, "call \(frame.callID): \(frame.status)")
                ids.append(frame.callID)
            }
            offset += used
        }
        #expect(Set(ids) == Set((10..<16).map(UInt32.init) + [20]), "replies for \(ids.sorted())")
        // Three slow calls of 100 ms on one model thread; the close must not wait for the
        // event loop's idle poll (1 s).
        #expect(elapsed < 0.9, "end of stream after \(elapsed) s")
        d.stop()
    }

    @Test func cancellationAnswersCancelledAtOnce() throws {
        let d = try TestDaemon(models: Self.slowModel)
        let c = try d.client()
        let start = Date()
        try c.send(.request(callID: 7, method: .embed, message: EmbedRequest(model: "slow", inputs: (0..<50).map { .text("x\($0)") })))
        usleep(150_000)
        try c.send(.cancel(callID: 7))
        do {
            _ = try c.awaitReply(callID: 7)
            Issue.record("a cancelled call must not succeed")
        } catch {
            #expect(error.status == .cancelled)
        }
        #expect(Date().timeIntervalSince(start) < 2, "cancellation should not wait for 5 s of work")
        // The connection stays usable.
        #expect(try c.call(.health, HealthRequest(), as: HealthResponse.self).status == .serving)
        d.stop()
    }

    @Test func deadlinesAreEnforced() throws {
        let d = try TestDaemon(models: Self.slowModel)
        let c = try d.client()
        do {
            _ = try c.call(.embed, EmbedRequest(model: "slow", inputs: (0..<30).map { .text("x\($0)") }), as: EmbedResponse.self,
                           deadlineMilliseconds: 200)
            Issue.record("expected DEADLINE_EXCEEDED")
        } catch {
            #expect(error.status == .deadlineExceeded, "\(error)")
        }
        d.stop()
    }

    @Test func statusCodesForBadCalls() throws {
        let d = try TestDaemon()
        let c = try d.client()
        #expect(c.serverHello.major == 1 && c.serverHello.server.hasPrefix("embedd/"))
        func status(_ method: MethodID, _ payload: [UInt8]) throws -> StatusCode {
            let id = c.makeCallID()
            try c.send(Frame(kind: .request, method: method, callID: id, payload: payload))
            do { _ = try c.awaitReply(callID: id); return .ok } catch { return error.status ?? .unknown }
        }
        #expect(try status(MethodID(rawValue: 999), []) == .unimplemented)
        #expect(try status(.search, []) == .invalidArgument)  // a store method with no collection named
        #expect(try status(.embed, [0xFF, 0xFF]) == .invalidArgument)  // undecodable payload
        #expect(try status(.embed, EmbedRequest(model: "fx").serializedBytes()) == .invalidArgument)  // no inputs
        #expect(try status(.embed, EmbedRequest(model: "fx", inputs: [Input()]).serializedBytes()) == .invalidArgument)
        #expect(try status(.embed, EmbedRequest(model: "nope", inputs: [.text("a")]).serializedBytes()) == .notFound)
        // A too-large input fails with the input's index.
        do {
            _ = try c.call(.embed, EmbedRequest(inputs: [.text("ok"), .text(String(repeating: "x", count: 70_000))]), as: EmbedResponse.self)
            Issue.record("expected a failure")
        } catch {
            #expect(error.status == .outOfRange || error.status == .invalidArgument, "\(error)")
            #expect(error.description.contains("input 1"), "\(error)")
        }
        // Media the model does not accept.
        do {
            _ = try c.call(.embed, EmbedRequest(inputs: [Input(.media(Media(data: [1, 2, 3], mimeType: "image/png")))]), as: EmbedResponse.self)
            Issue.record("expected a failure")
        } catch {
            #expect(error.status == .invalidArgument, "\(error)")
        }
        #expect(try c.call(.health, HealthRequest(), as: HealthResponse.self).status == .serving)
        d.stop()
    }

    @Test func malformedFrameClosesOnlyItsConnection() throws {
        let d = try TestDaemon()
        let good = try d.client()
        let bad = try d.client()
        // Unknown frame kind 0x42.
        try bad.sendRaw([0, 0, 0, 0, 0x42, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0])
        let f = try bad.nextFrame()
        #expect(f.kind == .goAway && f.status == .invalidArgument)
        #expect(String(decoding: f.payload, as: UTF8.self).contains("unknown frame kind 66"))
        #expect(throws: ClientError.closed) { try bad.nextFrame() }
        #expect(try good.call(.health, HealthRequest(), as: HealthResponse.self).status == .serving)

        // A frame over the limit is refused from its header alone.
        let big = try d.client()
        try big.sendRaw([0x7F, 0xFF, 0xFF, 0xFF, 2, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0])
        let g = try big.nextFrame()
        #expect(g.kind == .goAway && g.status == .resourceExhausted)

        // A request before HELLO.
        let fd = try UnixSocket.connect(path: d.socketPath)
        try UnixSocket.sendAll(fd, Frame.request(callID: 1, method: .health, message: HealthRequest()).encoded())
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = try buf.withUnsafeMutableBytes { try UnixSocket.receive(fd, into: $0) } ?? 0
        let reply = try FrameDecoder(maxPayloadBytes: 1 << 20).decode(Array(buf[..<n]))
        #expect(reply?.frame.kind == .goAway && reply?.frame.status == .failedPrecondition)
        try fd.close()

        // A client speaking protocol 2.
        let fd2 = try UnixSocket.connect(path: d.socketPath)
        try UnixSocket.sendAll(fd2, Frame.hello(Hello(major: 2, minor: 0)).encoded())
        let m = try buf.withUnsafeMutableBytes { try UnixSocket.receive(fd2, into: $0) } ?? 0
        let r2 = try FrameDecoder(maxPayloadBytes: 1 << 20).decode(Array(buf[..<m]))
        #expect(r2?.frame.kind == .goAway && r2?.frame.status == .failedPrecondition)
        let goAwayText = String(decoding: r2?.frame.payload ?? [], as: UTF8.self)
        #expect(goAwayText.contains("protocol version 2.0 is not supported"))
        try fd2.close()

        #expect(try good.call(.health, HealthRequest(), as: HealthResponse.self).status == .serving)
        d.stop()
    }

    @Test func connectionAndCallLimits() throws {
        let d = try TestDaemon(models: Self.slowModel, settings: """
        limits:
          max_connections: 3
          max_calls_per_connection: 2
          idle_timeout: 500ms
          max_frame_bytes: 4KiB
        """)
        let a = try d.client(), b = try d.client(), c = try d.client()
        #expect(a.serverHello.maxFrameBytes == 4096 && a.serverHello.maxCallsInFlight == 2)
        // The fourth connection is refused with RESOURCE_EXHAUSTED.
        do {
            _ = try d.client()
            Issue.record("expected a refusal")
        } catch {
            #expect(error.status == .resourceExhausted, "\(error)")
        }
        // Two calls in flight are fine, the third is refused.
        try a.send(.request(callID: 1, method: .embed, message: EmbedRequest(model: "slow", inputs: [.text("a"), .text("b")])))
        try a.send(.request(callID: 2, method: .embed, message: EmbedRequest(model: "slow", inputs: [.text("a")])))
        try a.send(.request(callID: 3, method: .health, message: HealthRequest()))
        do { _ = try a.awaitReply(callID: 3); Issue.record("expected RESOURCE_EXHAUSTED") } catch {
            #expect(error.status == .resourceExhausted)
        }
        _ = try a.awaitReply(callID: 1)
        _ = try a.awaitReply(callID: 2)
        // Idle connections are closed with GOAWAY after the idle timeout.
        usleep(1_200_000)
        let f = try b.nextFrame()
        #expect(f.kind == .goAway && f.status == .unavailable)
        _ = c
        // Now there is room again.
        let e = try d.client()
        #expect(try e.call(.health, HealthRequest(), as: HealthResponse.self).status == .serving)
        d.stop()
    }
}

/// Per-model batching: concurrent small calls share plugin calls; the queue is bounded.
@Suite struct BatchingTests {
    @Test func concurrentCallsAreCoalesced() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(name: "fx", options: ["delay_us": "2000"], isDefault: true),
                               settings: "batching: {max_batch: 16, max_delay: 50ms}")
        let c = try d.client()
        let before = try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self).models[0].pluginCalls
        for id in UInt32(1)...40 {
            try c.send(.request(callID: id, method: .embed, message: EmbedRequest(inputs: [.text("input \(id)")])))
        }
        var vectors: [UInt32: [Float]] = [:]
        for id in UInt32(1)...40 {
            vectors[id] = try c.awaitReply(callID: id).decodePayload(as: EmbedResponse.self).vectors[0].values
        }
        let after = try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self).models[0]
        let calls = after.pluginCalls - before
        #expect(calls <= 10, "40 single-input calls took \(calls) plugin calls: no coalescing")
        // Coalescing must not change results: each vector equals the input embedded alone.
        for id in [UInt32(1), 17, 40] {
            let alone = try c.call(.embed, EmbedRequest(inputs: [.text("input \(id)")]), as: EmbedResponse.self)
            #expect(alone.vectors[0].values == vectors[id])
        }
        d.stop()
    }

    /// Clients that call in a loop form one batch, not two alternating half-size ones: the
    /// batcher waits for the callers it has just answered (ModelBatcher's doc).
    @Test func callersInALoopAreWaitedFor() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(name: "fx", options: ["delay_us": "1500"], isDefault: true),
                               settings: "batching: {max_batch: 16, max_delay: 2ms}")
        let c = try d.client()
        let before = try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self).models[0].pluginCalls
        let socket = d.socketPath
        let clients = 8, rounds = 12
        let failures = Mutex<[String]>([])
        let finished = DispatchGroup()
        for k in 0..<clients {
            finished.enter()
            Thread {
                defer { finished.leave() }
                do {
                    let client = try EmbedClient(socketPath: socket, clientName: "loop-\(k)", timeoutSeconds: 30)
                    for r in 0..<rounds {
                        _ = try client.call(.embed, EmbedRequest(inputs: [.text("client \(k) round \(r)")]), as: EmbedResponse.self)
                    }
                } catch {
                    failures.withLock { $0.append("client \(k): \(error)") }
                }
            }.start()
        }
        #expect(finished.wait(timeout: .now() + 60) == .success)
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let calls = try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self).models[0].pluginCalls - before
        // One batch per round is 12–13 plugin calls; two alternating groups (the first caller
        // alone, then the other seven) would take about 24.
        #expect(calls <= 18, "\(clients * rounds) calls from \(clients) looping clients took \(calls) plugin calls")
        d.stop()
    }

    /// Callers that do not come back are not waited for: a later lone call is answered without
    /// the batching delay, even a long one.
    @Test func callersThatLeaveAreNotWaitedFor() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(name: "fx", options: ["delay_us": "20000"], isDefault: true),
                               settings: "batching: {max_batch: 16, max_delay: 400ms}")
        let first = try d.client()
        // One call computes while four others queue: the four then share one plugin call.
        try first.send(.request(callID: 1, method: .embed, message: EmbedRequest(inputs: [.text("first")])))
        usleep(5_000)
        var others: [EmbedClient] = []
        for k in 0..<4 {
            let o = try d.client()
            try o.send(.request(callID: 1, method: .embed, message: EmbedRequest(inputs: [.text("one-off \(k)")])))
            others.append(o)
        }
        _ = try first.awaitReply(callID: 1)
        for o in others { _ = try o.awaitReply(callID: 1) }
        // Nobody comes back; a new caller's call takes its 20 ms of compute, not 400 ms.
        let lone = try d.client()
        let start = Clock.monotonicNanoseconds()
        _ = try lone.call(.embed, EmbedRequest(inputs: [.text("lone")]), as: EmbedResponse.self)
        let ms = Double(Clock.monotonicNanoseconds() - start) / 1e6
        #expect(ms < 200, "a lone call after a batch of one-off callers took \(ms) ms")
        d.stop()
    }

    @Test func queueDepthRefusesExcessAtOnce() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(name: "fx", options: ["delay_us": "100000"], isDefault: true),
                               settings: "batching: {max_batch: 1, max_delay: 0, queue_depth: 2}")
        let c = try d.client()
        for id in UInt32(1)...8 {
            try c.send(.request(callID: id, method: .embed, message: EmbedRequest(inputs: [.text("q\(id)")])))
        }
        var ok = 0, refused = 0
        for id in UInt32(1)...8 {
            do { _ = try c.awaitReply(callID: id); ok += 1 } catch {
                #expect(error.status == .resourceExhausted, "\(error)")
                #expect(error.description.contains("queue_depth"))
                refused += 1
            }
        }
        #expect(refused >= 4 && ok >= 2, "ok \(ok), refused \(refused)")
        d.stop()
    }
}
