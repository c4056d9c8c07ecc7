import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// Deterministic PRNG (xorshift64*) so a failing fuzz run can be replayed from its seed.
struct FuzzRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

extension FuzzRandom {
    /// A damaged copy of a media file, one of five kinds: a few bits flipped, cut short, a run
    /// of zeros, the first 64 bytes (where headers are) scrambled, junk inserted.
    static func mutated(_ base: [UInt8], _ rng: inout FuzzRandom) -> [UInt8] {
        var b = base
        switch rng.next() % 5 {
        case 0: for _ in 0..<(1 + rng.next() % 8) { b[Int(rng.next() % UInt64(b.count))] ^= UInt8(1 << (rng.next() % 8)) }
        case 1: b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
        case 2:
            let at = Int(rng.next() % UInt64(b.count)), n = min(Int(rng.next() % 64) + 1, b.count - at)
            for i in at..<at + n { b[i] = 0 }
        case 3: for i in 0..<min(64, b.count) where rng.next() % 4 == 0 { b[i] = UInt8(truncatingIfNeeded: rng.next()) }
        default:
            let at = Int(rng.next() % UInt64(b.count))
            b.insert(contentsOf: (0..<Int(rng.next() % 32)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        }
        return b
    }
}

/// Throws ≥ 100,000 random and mutated frames at a running daemon: it must never crash, never
/// hang a connection, and must still answer Health afterwards.
///
/// Longer runs: `EMBEDD_FUZZ_FRAMES=5000000 swift test --filter FuzzTests`; replay a failure
/// with the printed seed: `EMBEDD_FUZZ_SEED=N`.
@Suite struct FuzzTests {
    static let frameCount = max(100_000, Int(Environment.get("EMBEDD_FUZZ_FRAMES") ?? "") ?? 0)

    /// Valid frames to mutate: every non-admin method with plausible payloads, HELLO, CANCEL.
    static func seeds() -> [Frame] {
        let inputs: [Input] = [.text("hello"), .text(""), Input(.media(Media(data: Array("FXTR\u{5}\0\0\0hello".utf8), mimeType: "application/x-embedd-fixture"))),
                               Input(.pixels(Pixels(rgb8: [1, 2, 3, 4, 5, 6], width: 2, height: 1))), Input(.audio(Audio(samples: [0.1, 0.2], sampleRate: 16000)))]
        return [
            .request(callID: 1, method: .health, message: HealthRequest()),
            .request(callID: 2, method: .status, message: StatusRequest()),
            .request(callID: 3, method: .listModels, message: ListModelsRequest()),
            .request(callID: 4, method: .listPlugins, message: ListPluginsRequest()),
            .request(callID: 5, method: .embed, message: EmbedRequest(model: "fx", inputs: inputs)),
            .request(callID: 6, method: .embed, deadlineMilliseconds: 1, message: EmbedRequest(inputs: [.text("deadline")])),
            .request(callID: 7, method: .search, message: HealthRequest()),
            .hello(Hello(major: 1, minor: 0, client: "fuzz")),
            .cancel(callID: 5),
            Frame(kind: .request, method: .embed, callID: 8, payload: EmbedRequest(inputs: (0..<40).map { .text("batch \($0)") }).serializedBytes()),
        ]
    }

    /// A mutated frame. Hostile connections get every kind of damage; the others only damage
    /// that keeps the framing intact, so their calls reach the handlers and decoders.
    static func mutate(_ f: Frame, hostile: Bool, _ rng: inout FuzzRandom) -> [UInt8] {
        var bytes = f.encoded()
        let choice = Int.random(in: 0..<20, using: &rng)
        switch hostile ? choice : (choice < 13 ? choice : 19) {
        case 0...9:
            // Flip payload bytes but keep the header consistent: reaches the message decoders.
            if bytes.count > Frame.headerSize {
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: Frame.headerSize..<bytes.count, using: &rng)
                    bytes[i] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            // Random call id and method now and then.
            for i in 8..<12 { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
            if Int.random(in: 0..<4, using: &rng) == 0 { bytes[6] = 0; bytes[7] = UInt8.random(in: 0...45, using: &rng) }
        case 10...12:
            // Random payload of a random (non-admin) method.
            var payload = [UInt8](repeating: 0, count: Int.random(in: 0..<200, using: &rng))
            for i in payload.indices { payload[i] = UInt8.random(in: 0...255, using: &rng) }
            var methods: [UInt16] = [1, 2, 3, 4, 5, 16, 17, 18, 19, 32, 36, 37, 99, 65535]
            methods.shuffle(using: &rng)
            bytes = Frame(kind: .request, flags: UInt8.random(in: 0...255, using: &rng), method: MethodID(rawValue: methods[0]),
                          callID: UInt32.random(in: 0...20, using: &rng), word: UInt32.random(in: 0...UInt32.max, using: &rng),
                          payload: payload).encoded()
        case 13:
            // Header bytes flipped: kind, flags, length.
            let i = Int.random(in: 0..<Frame.headerSize, using: &rng)
            bytes[i] = UInt8.random(in: 0...255, using: &rng)
        case 14:
            // Truncated frame (the rest arrives as the start of the next one).
            bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
        case 15:
            // Duplicate the frame (same call id twice in flight).
            bytes += bytes
        case 16:
            // Pure noise.
            bytes = (0..<Int.random(in: 1..<64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        default:
            break  // the valid frame itself
        }
        return bytes
    }

    @Test func hundredThousandFramesNeverCrashOrHang() throws {
        let d = try TestDaemon(settings: """
        limits:
          max_frame_bytes: 64KiB
          max_inputs_per_call: 64
          call_deadline: 5s
        """)
        let seed = UInt64(Environment.get("EMBEDD_FUZZ_SEED").flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max))
        var rng = FuzzRandom(seed: seed)
        let seeds = Self.seeds()
        let hello = Frame.hello(Hello(major: 1, minor: 0, client: "fuzz")).encoded()
        var sent = 0
        var connections = 0
        var goAways = 0
        var responses = 0
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        let start = Date()
        while sent < Self.frameCount {
            let fd = try UnixSocket.connect(path: d.socketPath)
            connections += 1
            try UnixSocket.setReceiveTimeout(fd, seconds: 10)
            // Mostly a proper handshake first, so frames reach dispatch; sometimes not.
            var stream: [UInt8] = Int.random(in: 0..<20, using: &rng) == 0 ? [] : hello
            let n = Int.random(in: 1...60, using: &rng)
            let hostile = Bool.random(using: &rng)
            for _ in 0..<n {
                var seed = seeds.randomElement(using: &rng)!
                if !hostile && seed.kind == .hello { seed = seeds[0] }
                if !hostile { seed.callID = UInt32.random(in: 0...UInt32.max, using: &rng) }
                stream += Self.mutate(seed, hostile: hostile, &rng)
            }
            sent += n
            // The daemon may close early (protocol error): EPIPE/ECONNRESET are expected.
            _ = try? UnixSocket.sendAll(fd, stream)
            UnixSocket.shutdownWrite(fd)
            var received: [UInt8] = []
            while true {
                let r = buf.withUnsafeMutableBytes { raw in Result { () throws(Errno) in try UnixSocket.receive(fd, into: raw) } }
                guard case .success(let got) = r else { break }
                guard let got else {
                    Issue.record("connection \(connections) hung for 10 s (seed \(seed))")
                    break
                }
                if got == 0 { break }
                received += buf[..<got]
            }
            try? fd.close()
            // Whatever came back must itself be well-formed frames.
            var offset = 0
            let decoder = FrameDecoder(maxPayloadBytes: 1 << 20)
            while let (frame, used) = try? decoder.decode(received, from: offset), true {
                if frame.kind == .goAway { goAways += 1 }
                if frame.kind == .response { responses += 1 }
                #expect(frame.kind != .request && frame.kind != .cancel)
                offset += used
            }
            #expect(offset == received.count, "the daemon sent a partial or malformed frame (seed \(seed))")
            if !d.process.isRunning { break }
        }
        let elapsed = Date().timeIntervalSince(start)
        print("fuzz: \(sent) frames over \(connections) connections in \(String(format: "%.1f", elapsed)) s: \(responses) responses, \(goAways) GOAWAYs, seed \(seed)")
        #expect(d.process.isRunning, "embedd died during fuzzing (seed \(seed)):\n\(d.log.suffix(4000))")
        #expect(sent >= Self.frameCount)
        let c = try d.client()
        // As root the fuzzer may have hit admin methods (e.g. unloaded "fx"): Health must answer,
        // and the daemon must still be able to load and serve the model.
        let health = try c.call(.health, HealthRequest(), as: HealthResponse.self)
        #expect(health.status == .serving || health.status == .notServing)
        let models = try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self).models
        if !models.contains(where: { $0.name == "fx" && $0.state == .ready }) {
            if models.contains(where: { $0.name == "fx" }) {
                _ = try c.call(.unloadModel, UnloadModelRequest(name: "fx"), as: UnloadModelResponse.self)
            }
            _ = try c.call(.loadModel, LoadModelRequest(name: "fx", plugin: Products.fixturePlugin, modelDir: "fixture-model",
                                                        options: ["dim": "16"]), as: LoadModelResponse.self)
        }
        let e = try c.call(.embed, EmbedRequest(model: "fx", inputs: [.text("still works")]), as: EmbedResponse.self)
        #expect(e.vectors.count == 1 && e.dim == 16)
        // No call may be left in flight. The Embed's worker thread counts its call done just
        // after writing the reply, so on a busy machine Status can still see it: poll briefly.
        var inFlight = UInt32.max
        for _ in 0..<40 where inFlight > 1 {
            inFlight = UInt32(clamping: try c.call(.status, StatusRequest(), as: StatusResponse.self).callsInFlight)
            if inFlight > 1 { usleep(50_000) }
        }
        #expect(inFlight <= 1, "calls still in flight after fuzzing: \(inFlight)")
        #expect(d.stop() == 0)
    }
}
