import EmbedSys
import EmbedWire

/// The per-connection protocol of docs/protocol.md, without I/O: the handshake, framing,
/// call ids, descriptors passed beside frames, the buffer reservation of large frames
/// (back-pressure), half-close, and the frame and idle timeouts.
///
/// The server feeds it what the socket delivered (`receive`, `receiveDescriptors`,
/// `receiveEndOfStream`) and the passing of time (`tick`), and carries out the `Action`s it
/// returns: it owns the socket, the dispatch table and the calls in flight. Nothing here
/// reads a clock, touches a descriptor (descriptors to close come back as actions) or blocks,
/// so every protocol case is a millisecond unit test (Tests/EmbedServerTests), as swift-nio
/// tests its channel handlers.
///
/// Event-loop thread only (a value type owned by its `Connection`).
struct ConnectionStateMachine {
    /// What the server must do.
    enum Action: Equatable {
        /// Send this frame (the HelloReply).
        case send(Frame)
        /// A REQUEST to dispatch, with the files that came with it.
        case startCall(Frame, files: PassedFiles)
        /// The client cancelled this call.
        case cancelCall(UInt32)
        /// Close these descriptors (refused or unclaimed; the machine only counts them).
        case closeDescriptors([FileDescriptor])
        /// A protocol violation: send the GOAWAY, fail every call in flight, and close once it
        /// is flushed (or after a second). `problem` is for the log.
        case goAway(Frame, problem: String)
        /// The idle timeout: send the GOAWAY and close once it is flushed (no call is in flight).
        case closeIdle(Frame)
    }

    /// The files of a REQUEST frame.
    enum PassedFiles: Equatable {
        /// The frame is not flagged DESCRIPTORS.
        case none
        /// The descriptors that came with it, now the call's.
        case files([FileDescriptor])
        /// More came than `limits.max_descriptors_per_call` allows: they were closed on arrival.
        case refused(count: Int)
        /// Flagged DESCRIPTORS, but no descriptors arrived before it.
        case missing
    }

    /// What a reserving connection is, for the budget.
    let uid: UInt32
    /// uid 0 or the admin group: no per-uid share of the buffer budget.
    let isAdmin: Bool
    /// Sent in the HelloReply.
    let serverName: String

    /// Bytes received and not yet decoded into frames, from `inboxStart`.
    private(set) var inbox: [UInt8] = []
    private(set) var inboxStart = 0
    private(set) var handshakeDone = false
    /// When the last complete frame arrived (or the connection opened): the idle timeout runs
    /// from here, so a trickle of bytes that never completes a frame does not reset it.
    private(set) var lastActivity: UInt64
    /// When the frame at the head of the inbox started arriving (0: none is partly received);
    /// a large frame's clock starts when its reservation is granted. `limits.frame_timeout`.
    private(set) var frameStartedAt: UInt64 = 0
    /// Bytes reserved in the server's buffer budget for the frame at the head of the inbox
    /// (header + payload), 0 for a small frame (see `ConnectionBudget`).
    private(set) var reserved = 0
    /// The head frame is too large for the per-connection allowance and is waiting for a
    /// reservation: nothing more is read from the connection meanwhile.
    private(set) var awaitingReservation = false
    /// The peer shut down its write side: answer the calls already received, then close.
    private(set) var readClosed = false
    /// A GOAWAY is queued: close once the output is flushed, or at `closeDeadline`.
    private(set) var closing = false
    private(set) var closeDeadline: UInt64 = 0
    /// Descriptor batches received (`SCM_RIGHTS`), one per sendmsg, in stream order; each
    /// REQUEST frame flagged DESCRIPTORS takes the oldest. A batch over
    /// `limits.max_descriptors_per_call` is closed on arrival and kept as its count (`refused`),
    /// so the frame it came with fails alone.
    private var descriptorBatches: [(descriptors: [FileDescriptor], refused: Int)] = []

    /// At most this many descriptor batches may wait for their frames.
    static let maxPendingBatches = 16

    init(uid: UInt32, isAdmin: Bool, serverName: String, now: UInt64) {
        self.uid = uid
        self.isAdmin = isAdmin
        self.serverName = serverName
        lastActivity = now
    }

    /// Bytes received and not yet decoded into frames.
    var buffered: Int { inbox.count - inboxStart }

    /// Bytes the server may read from the socket now: up to a small frame's worth, or the
    /// reserved frame plus that much (pipelined calls behind it).
    var readAllowance: Int { reserved + ConnectionBudget.smallFrameBytes - buffered }

    /// Whether the server should read from the socket (given what it has not yet written:
    /// a client that does not read its replies is not read from either).
    func wantsToRead(pendingOutput: Int) -> Bool {
        !closing && !readClosed && pendingOutput < 32 << 20 && readAllowance > 0
    }

    /// Whether a timer of this connection runs (the server polls at least every 100 ms).
    var hasTimerRunning: Bool { frameStartedAt > 0 || awaitingReservation }

    /// Descriptors received in one `recvmsg`, before the bytes that came with them.
    mutating func receiveDescriptors(_ descriptors: [FileDescriptor], truncated: Bool, now: UInt64, limits: ServerLimits,
                                     budget: inout ConnectionBudget) -> [Action] {
        guard !closing else { return [.closeDescriptors(descriptors)] }
        var actions: [Action] = []
        if descriptors.count > limits.maxDescriptorsPerCall {
            actions.append(.closeDescriptors(descriptors))
            descriptorBatches.append(([], descriptors.count))
        } else {
            descriptorBatches.append((descriptors, 0))
        }
        // Unclaimed descriptors count against the daemon's open-file limit: bound them per
        // connection (two full messages' worth). (Not "none before HELLO": one read may return
        // a HELLO and a pipelined flagged request with its descriptors.)
        let pending = descriptorBatches.reduce(0) { $0 + $1.descriptors.count }
        if truncated {
            actions += fail(.invalidArgument, "too many descriptors in one message", now: now, budget: &budget)
        } else if descriptorBatches.count > Self.maxPendingBatches || pending > 2 * DescriptorPassing.maxDescriptorsPerMessage {
            actions += fail(.invalidArgument, "descriptors were passed without REQUEST frames flagged DESCRIPTORS to claim them",
                            now: now, budget: &budget)
        }
        return actions
    }

    /// Bytes received; decodes every whole frame. `callInFlight` tells whether a call id is
    /// taken on this connection (the calls live with the server, answered from other threads).
    mutating func receive(_ bytes: ArraySlice<UInt8>, now: UInt64, limits: ServerLimits, budget: inout ConnectionBudget,
                          callInFlight: (UInt32) -> Bool) -> [Action] {
        guard !closing else { return [] }
        if buffered == 0 { frameStartedAt = now }
        inbox.append(contentsOf: bytes)
        return decodeFrames(now: now, limits: limits, budget: &budget, callInFlight: callInFlight)
    }

    /// The peer shut down its write side (read returned 0). The frames already received are
    /// served; the server closes once every call is answered and written.
    mutating func receiveEndOfStream() { readClosed = true }

    /// Once per turn of the event loop, for a connection waiting for a reservation: tries again.
    mutating func retryReservation(now: UInt64, limits: ServerLimits, budget: inout ConnectionBudget) {
        if awaitingReservation { reserveHeadFrame(now: now, limits: limits, budget: &budget) }
    }

    /// The frame and idle timeouts. `quiet`: no call in flight and no output waiting.
    mutating func tick(now: UInt64, limits: ServerLimits, quiet: Bool, budget: inout ConnectionBudget) -> [Action] {
        guard !closing else { return [] }
        if frameStartedAt > 0 && !awaitingReservation && now - min(now, frameStartedAt) >= limits.frameTimeoutNanos {
            let declared = FrameDecoder.declaredLength(inbox, from: inboxStart).map { " of \($0 + Frame.headerSize)" } ?? ""
            return fail(.deadlineExceeded, "a frame did not arrive whole within limits.frame_timeout (\(Double(limits.frameTimeoutNanos) / 1e9) s): \(buffered)\(declared) bytes came",
                        now: now, budget: &budget)
        }
        // From the last complete frame: bytes that never make a frame do not reset it.
        if quiet && now - min(now, lastActivity) >= limits.idleTimeoutNanos {
            let goAway = Frame.goAway(status: .unavailable, message: "idle timeout")
            return shutDown(now: now, budget: &budget) + [.closeIdle(goAway)]
        }
        return []
    }

    /// A protocol violation the server found (one the machine cannot see): GOAWAY and close.
    mutating func fail(_ code: StatusCode, _ message: String, now: UInt64, budget: inout ConnectionBudget) -> [Action] {
        shutDown(now: now, budget: &budget) + [.goAway(.goAway(status: code, message: message), problem: message)]
    }

    /// The connection is being closed: gives back its reservation and returns the
    /// descriptors no frame claimed (the server closes them).
    mutating func close(budget: inout ConnectionBudget) -> [FileDescriptor] {
        releaseReservation(&budget)
        inbox = []
        inboxStart = 0
        closing = true
        let unclaimed = descriptorBatches.flatMap(\.descriptors)
        descriptorBatches = []
        return unclaimed
    }

    // MARK: Frames

    private mutating func decodeFrames(now: UInt64, limits: ServerLimits, budget: inout ConnectionBudget,
                                       callInFlight: (UInt32) -> Bool) -> [Action] {
        var actions: [Action] = []
        let decoder = FrameDecoder(maxPayloadBytes: limits.maxFrameBytes)
        while !closing {
            let decoded: (frame: Frame, consumed: Int)?
            do {
                decoded = try decoder.decode(inbox, from: inboxStart)
            } catch {
                let code: StatusCode = if case .frameTooLarge = error { .resourceExhausted } else { .invalidArgument }
                actions += fail(code, "malformed frame: \(error)", now: now, budget: &budget)
                break
            }
            guard let (frame, used) = decoded else {
                reserveHeadFrame(now: now, limits: limits, budget: &budget)
                break
            }
            inboxStart += used
            releaseReservation(&budget)
            lastActivity = now
            frameStartedAt = buffered > 0 ? now : 0
            handle(frame, now: now, limits: limits, budget: &budget, callInFlight: callInFlight, into: &actions)
        }
        compactInbox()
        return actions
    }

    private mutating func handle(_ frame: Frame, now: UInt64, limits: ServerLimits, budget: inout ConnectionBudget,
                                 callInFlight: (UInt32) -> Bool, into actions: inout [Action]) {
        guard handshakeDone else {
            guard frame.kind == .hello else {
                actions += fail(.failedPrecondition, "expected a HELLO frame first, got \(frame.kind)", now: now, budget: &budget)
                return
            }
            let hello: Hello
            do { hello = try frame.decodePayload(as: Hello.self) } catch {
                actions += fail(.invalidArgument, "cannot decode Hello: \(error)", now: now, budget: &budget)
                return
            }
            guard hello.major == ProtocolVersion.major else {
                actions += fail(.failedPrecondition,
                                "protocol version \(hello.major).\(hello.minor) is not supported; this server speaks \(ProtocolVersion.major).\(ProtocolVersion.minor)",
                                now: now, budget: &budget)
                return
            }
            handshakeDone = true
            actions.append(.send(.hello(HelloReply(
                major: ProtocolVersion.major, minor: ProtocolVersion.minor, server: serverName,
                maxFrameBytes: UInt32(clamping: limits.maxFrameBytes), maxCallsInFlight: UInt32(clamping: limits.maxCallsPerConnection),
                idleTimeoutMs: UInt32(clamping: limits.idleTimeoutNanos / 1_000_000),
                defaultDeadlineMs: UInt32(clamping: limits.callDeadlineNanos / 1_000_000),
                maxInputsPerCall: UInt32(clamping: limits.maxInputsPerCall)))))
            return
        }
        switch frame.kind {
        case .request:
            // Claim the frame's descriptors before anything can refuse the call: left queued,
            // they would be handed to the next flagged frame (another call's files).
            var files = PassedFiles.none
            if frame.carriesDescriptors {
                if descriptorBatches.isEmpty {
                    files = .missing
                } else {
                    let batch = descriptorBatches.removeFirst()
                    files = batch.refused > 0 ? .refused(count: batch.refused) : .files(batch.descriptors)
                }
            }
            if callInFlight(frame.callID) {
                if case .files(let d) = files { actions.append(.closeDescriptors(d)) }
                actions += fail(.invalidArgument, "call id \(frame.callID) is already in flight on this connection", now: now, budget: &budget)
                return
            }
            actions.append(.startCall(frame, files: files))
        case .cancel:
            actions.append(.cancelCall(frame.callID))
        case .hello:
            actions += fail(.failedPrecondition, "HELLO sent twice", now: now, budget: &budget)
        case .response, .goAway:
            actions += fail(.invalidArgument, "clients must not send \(frame.kind) frames", now: now, budget: &budget)
        }
    }

    // MARK: Buffer budget

    /// Reserves room for the frame at the head of the inbox when it is too large to be read
    /// without a reservation (see `ConnectionBudget`); its frame clock starts with the grant.
    private mutating func reserveHeadFrame(now: UInt64, limits: ServerLimits, budget: inout ConnectionBudget) {
        guard reserved == 0, let length = FrameDecoder.declaredLength(inbox, from: inboxStart) else {
            awaitingReservation = false
            return
        }
        let size = Frame.headerSize + length
        guard size > ConnectionBudget.smallFrameBytes, length <= limits.maxFrameBytes else {
            awaitingReservation = false
            return
        }
        if budget.reserve(size, uid: uid, exempt: isAdmin, limit: limits.maxBufferedBytes) {
            reserved = size
            frameStartedAt = now
            awaitingReservation = false
        } else {
            awaitingReservation = true
        }
    }

    private mutating func releaseReservation(_ budget: inout ConnectionBudget) {
        budget.release(reserved, uid: uid)
        reserved = 0
        awaitingReservation = false
    }

    // MARK: Closing

    /// Stops reading for good: drops the inbox and the reservation; returns the unclaimed
    /// descriptors to close.
    private mutating func shutDown(now: UInt64, budget: inout ConnectionBudget) -> [Action] {
        closing = true
        closeDeadline = now + 1_000_000_000
        inbox = []
        inboxStart = 0
        frameStartedAt = 0
        releaseReservation(&budget)
        let unclaimed = descriptorBatches.flatMap(\.descriptors)
        descriptorBatches = []
        return unclaimed.isEmpty ? [] : [.closeDescriptors(unclaimed)]
    }

    /// Drops the decoded bytes at the front of the inbox. A large frame's buffer is given
    /// back to the allocator once it is consumed, instead of living as long as the connection
    /// (forty 40 MB frames on forty connections once held 3 GB).
    private mutating func compactInbox() {
        guard inboxStart > 0 else { return }
        if inboxStart == inbox.count {
            if inbox.capacity > 1 << 20 { inbox = [] } else { inbox.removeAll(keepingCapacity: true) }
        } else {
            inbox.removeFirst(inboxStart)
        }
        inboxStart = 0
    }
}
