import EmbedClient
import EmbedSys
import EmbedWire

/// Sends a long list of items to the daemon as consecutive calls within its limits, a few
/// calls in flight, and hands each call's answer back in the order the calls were sent: the
/// engine under `embedctl add` (Upsert) and `embedctl embed` (Embed).
///
/// Splitting: a call takes up to `maxItems` items (the daemon refuses more than its
/// `limits.max_inputs_per_call`, 1024 by default), `maxBytes` of estimated payload (half the
/// frame limit the daemon announced in its HELLO reply) and `maxDescriptors` passed files;
/// always at least one item.
///
/// Retry: a call refused as a whole for overload (RESOURCE_EXHAUSTED) or a passing
/// unavailability (UNAVAILABLE) is sent again with back-off, up to `retrySeconds` in all, and
/// answered before the calls sent after it.
///
/// Stop: any other failure of a call, a connection that breaks, or an interrupt (Ctrl-C, see
/// `Interrupt`) stops sending; the calls already in flight are still waited for and answered.
final class CallPipeline {
    struct Limits {
        var maxItems: Int
        var maxBytes = 8 << 20
        var maxDescriptors = 64

        /// The daemon's default `limits.max_inputs_per_call`, for daemons that do not announce theirs.
        static let defaultMaxItems = 1024

        /// `maxBytes` lowered to half the frame limit the daemon announced (at least 64 KiB), and
        /// `maxItems` to its `limits.max_inputs_per_call` (older daemons announce 0: the default).
        mutating func fit(_ hello: HelloReply) {
            let frameLimit = Int(hello.maxFrameBytes)
            if frameLimit > 0 { maxBytes = max(1 << 16, min(maxBytes, frameLimit / 2)) }
            if hello.maxInputsPerCall > 0 { maxItems = max(1, min(maxItems, Int(hello.maxInputsPerCall))) }
        }
    }

    /// Why sending stopped before the end.
    enum Stop {
        case interrupted
        case failed(ClientError)
        /// The caller's `answered` asked to stop (it could not use the answers).
        case cancelled
    }

    private let client: EmbedClient
    let limits: Limits
    let window: Int
    let retrySeconds: Double
    let interrupt: Interrupt?

    init(client: EmbedClient, limits: Limits, window: Int = 2, retrySeconds: Double, interrupt: Interrupt? = nil) {
        self.client = client
        self.limits = limits
        self.window = max(1, window)
        self.retrySeconds = retrySeconds
        self.interrupt = interrupt
    }

    /// Sends items `0..<count`.
    /// - Parameters:
    ///   - size: the estimated payload bytes of item `i`; `isFile`: whether it passes a descriptor.
    ///   - send: sends items `range` as one call (`attempt` 0, then 1, 2... for retries) and
    ///     returns its call id, or nil when nothing of it had to be sent (its items failed
    ///     locally and were recorded by the caller); throws when the connection fails.
    ///   - answered: each sent call's reply (status OK), or the error it finally failed with,
    ///     in send order; false stops sending (`.cancelled`).
    ///   - interrupted: told once, when an interrupt stops sending, with the calls still in flight.
    /// - Returns: why sending stopped early (nil when every item was sent) and the items never
    ///   sent (empty when none).
    func run(count: Int, size: (Int) -> Int, isFile: (Int) -> Bool = { _ in false },
             send: (_ range: Range<Int>, _ attempt: Int) throws(ClientError) -> UInt32?,
             answered: (_ range: Range<Int>, _ reply: Result<Frame, ClientError>) -> Bool,
             interrupted: (_ inFlight: Int) -> Void = { _ in }) -> (stop: Stop?, notSent: Range<Int>) {
        var next = 0
        var inFlight: [(id: UInt32, range: Range<Int>, attempt: Int)] = []
        var stop: Stop?
        var retryWaited = 0.0
        var backoff = 0.01

        func checkInterrupt() {
            guard stop == nil, let interrupt, interrupt.requested else { return }
            stop = .interrupted
            interrupted(inFlight.count)
        }

        while true {
            checkInterrupt()
            while stop == nil && inFlight.count < window && next < count {
                let range = take(from: next, count: count, size: size, isFile: isFile)
                do {
                    if let id = try send(range, 0) { inFlight.append((id, range, 0)) }
                    next = range.upperBound
                } catch {
                    stop = .failed(error)  // not sent: part of the tail returned below
                }
            }
            guard !inFlight.isEmpty else { break }
            let call = inFlight.removeFirst()
            let reply: Result<Frame, ClientError>
            do { reply = .success(try client.awaitReply(callID: call.id)) } catch { reply = .failure(error) }
            if case .failure(let error) = reply {
                let retryable: Bool
                switch error {
                case .rpc(.resourceExhausted, _), .rpc(.unavailable, _): retryable = true
                default: retryable = false
                }
                checkInterrupt()
                if retryable && stop == nil && retryWaited < retrySeconds {
                    Clock.sleep(seconds: backoff)
                    retryWaited += backoff
                    backoff = min(backoff * 2, 1)
                    do {
                        if let id = try send(call.range, call.attempt + 1) {
                            inFlight.insert((id, call.range, call.attempt + 1), at: 0)
                            continue
                        }
                    } catch {
                        stop = .failed(error)
                        _ = answered(call.range, .failure(error))
                        continue
                    }
                    continue
                }
                if stop == nil { stop = .failed(error) }
            } else {
                backoff = 0.01
            }
            if !answered(call.range, reply) && stop == nil { stop = .cancelled }
        }
        return (stop, next..<count)
    }

    /// The next call's items from `start`: up to the limits, at least one.
    private func take(from start: Int, count: Int, size: (Int) -> Int, isFile: (Int) -> Bool) -> Range<Int> {
        var end = start
        var bytes = 0
        var files = 0
        while end < count && end - start < limits.maxItems {
            let s = size(end)
            let file = isFile(end)
            if end > start && (bytes + s > limits.maxBytes || (file && files >= limits.maxDescriptors)) { break }
            bytes += s
            if file { files += 1 }
            end += 1
        }
        return start..<end
    }
}

/// Ctrl-C as a question a send loop asks between calls. SIGINT is blocked and read from a
/// signalfd (`EmbedSys.Signals`), so it never lands in the middle of writing the output; the
/// first one stops sending, and SIGINT is unblocked again so that a second Ctrl-C ends
/// embedctl at once. embedctl starts no threads, so blocking it here covers the process.
final class Interrupt {
    private let signals: Signals?
    private(set) var happened = false

    private init(signals: Signals?) { self.signals = signals }

    /// Starts watching for SIGINT (nothing is watched when the signalfd cannot be made).
    static func watch() -> Interrupt {
        Interrupt(signals: try? Signals.blockAndCreate([Signals.interrupt]))
    }

    /// Whether Ctrl-C was pressed (asks without waiting).
    var requested: Bool {
        if happened { return true }
        guard let signals, !signals.drain().isEmpty else { return false }
        happened = true
        try? Signals.unblock([Signals.interrupt])
        return true
    }

    /// Stops watching: SIGINT has its default action again (a Ctrl-C pending now ends embedctl).
    func stop() {
        guard let signals else { return }
        if !happened { try? Signals.unblock([Signals.interrupt]) }
        try? signals.descriptor.close()
    }
}
