import EmbedConfig
@testable import EmbedServer
import EmbedSys
import EmbedWire
import Testing

/// The per-connection protocol without sockets: bytes and descriptors in, actions out.
/// Descriptor numbers here are made up (the machine never touches a descriptor).
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine
    typealias Action = ConnectionStateMachine.Action

    static let second: UInt64 = 1_000_000_000

    /// A fixture: one connection's machine, the daemon's budget and limits, the calls the
    /// server holds in flight.
    struct Peer {
        var machine: Machine
        var budget = ConnectionBudget()
        var limits: ServerLimits
        var inFlight: Set<UInt32> = []
        var now: UInt64 = 1_000 * ConnectionStateMachineTests.second

        init(uid: UInt32 = 1000, isAdmin: Bool = false, configure: (inout Limits) -> Void = { _ in }) {
            var l = Limits()
            configure(&l)
            limits = ServerLimits(l)
            machine = Machine(uid: uid, isAdmin: isAdmin, serverName: "embedd/test", now: now)
        }

        mutating func send(_ bytes: [UInt8]) -> [Action] {
            let flight = inFlight
            return machine.receive(bytes[...], now: now, limits: limits, budget: &budget, callInFlight: { flight.contains($0) })
        }

        mutating func send(_ frames: Frame...) -> [Action] {
            var bytes: [UInt8] = []
            for f in frames { f.encode(into: &bytes) }
            return send(bytes)
        }

        mutating func descriptors(_ numbers: [Int32], truncated: Bool = false) -> [Action] {
            machine.receiveDescriptors(numbers.map(FileDescriptor.init(rawValue:)), truncated: truncated, now: now, limits: limits, budget: &budget)
        }

        mutating func tick(after seconds: UInt64, quiet: Bool = true) -> [Action] {
            now += seconds * ConnectionStateMachineTests.second
            return machine.tick(now: now, limits: limits, quiet: quiet, budget: &budget)
        }

        /// HELLO and its reply.
        mutating func handshake() {
            let actions = send(.hello(Hello(major: ProtocolVersion.major, minor: ProtocolVersion.minor, client: "test")))
            precondition(actions.count == 1)
        }
    }

    static func request(_ id: UInt32, descriptors: Bool = false) -> Frame {
        var f = Frame.request(callID: id, method: .health, message: HealthRequest())
        if descriptors { f.flags |= Frame.descriptors }
        return f
    }

    /// The GOAWAY of `actions` (status and message), if any.
    static func goAway(_ actions: [Action]) -> (StatusCode, String)? {
        for case .goAway(let frame, _) in actions {
            let status = try? frame.decodePayload(as: RpcStatus.self)
            return (frame.status, status?.message ?? "")
        }
        return nil
    }

    static func startedCalls(_ actions: [Action]) -> [UInt32] {
        actions.compactMap { if case .startCall(let f, _) = $0 { f.callID } else { nil } }
    }

    // MARK: Handshake

    @Test func helloIsAnsweredWithTheLimits() throws {
        var p = Peer { $0.maxFrameBytes = 1 << 20; $0.maxCallsPerConnection = 7; $0.idleTimeoutSeconds = 60; $0.maxInputsPerCall = 99 }
        let actions = p.send(.hello(Hello(major: ProtocolVersion.major, minor: 9, client: "t")))
        guard case .send(let frame)? = actions.first, actions.count == 1 else { Issue.record("\(actions)"); return }
        let reply = try frame.decodePayload(as: HelloReply.self)
        #expect(frame.kind == .hello)
        #expect(reply.server == "embedd/test")
        #expect(reply.maxFrameBytes == 1 << 20)
        #expect(reply.maxCallsInFlight == 7)
        #expect(reply.idleTimeoutMs == 60_000)
        #expect(reply.maxInputsPerCall == 99)
        #expect(p.machine.handshakeDone)
    }

    @Test func aRequestBeforeHelloEndsTheConnection() {
        var p = Peer()
        let actions = p.send(Self.request(1))
        #expect(Self.goAway(actions)?.0 == .failedPrecondition)
        #expect(Self.goAway(actions)?.1.contains("expected a HELLO frame first") == true)
        #expect(Self.startedCalls(actions).isEmpty)
        #expect(p.machine.closing)
        // Nothing more is read or decoded once closing.
        #expect(!p.machine.wantsToRead(pendingOutput: 0))
        #expect(p.send(.hello(Hello(major: ProtocolVersion.major))).isEmpty)
    }

    @Test func anotherMajorVersionIsRefused() {
        var p = Peer()
        let actions = p.send(.hello(Hello(major: ProtocolVersion.major + 1, minor: 0)))
        #expect(Self.goAway(actions)?.0 == .failedPrecondition)
        #expect(Self.goAway(actions)?.1.contains("is not supported") == true)
    }

    @Test func helloTwiceAndServerFramesAreProtocolErrors() {
        var p = Peer()
        p.handshake()
        #expect(Self.goAway(p.send(.hello(Hello(major: ProtocolVersion.major))))?.1 == "HELLO sent twice")
        var q = Peer()
        q.handshake()
        let a = q.send(.goAway(status: .ok, message: "bye"))
        #expect(Self.goAway(a)?.0 == .invalidArgument)
    }

    // MARK: Framing

    @Test func aFrameArrivingByteByByteStartsOneCall() {
        var p = Peer()
        p.handshake()
        let bytes = Self.request(42).encoded()
        var started: [UInt32] = []
        for b in bytes { started += Self.startedCalls(p.send([b])) }
        #expect(started == [42])
        #expect(p.machine.buffered == 0)
        #expect(p.machine.frameStartedAt == 0)
    }

    @Test func pipelinedFramesStartInOrder() {
        var p = Peer()
        var bytes: [UInt8] = []
        Frame.hello(Hello(major: ProtocolVersion.major)).encode(into: &bytes)
        for id: UInt32 in [5, 3, 9] { Self.request(id).encode(into: &bytes) }
        let actions = p.send(bytes)
        #expect(Self.startedCalls(actions) == [5, 3, 9])
        guard case .send? = actions.first else { Issue.record("HelloReply first: \(actions)"); return }
    }

    @Test func aCallIDInFlightIsAProtocolError() {
        var p = Peer()
        p.handshake()
        p.inFlight = [7]
        let actions = p.send(Self.request(7))
        #expect(Self.goAway(actions)?.1 == "call id 7 is already in flight on this connection")
        #expect(Self.startedCalls(actions).isEmpty)
    }

    @Test func cancelNamesTheCall() {
        var p = Peer()
        p.handshake()
        #expect(p.send(.cancel(callID: 12)) == [.cancelCall(12)])
    }

    @Test func malformedAndOversizedHeadersEndTheConnectionAtOnce() {
        var p = Peer()
        p.handshake()
        var header = Self.request(1).encoded()
        header[4] = 0x7f  // no such frame kind
        #expect(Self.goAway(p.send(Array(header[..<16])))?.0 == .invalidArgument)

        var q = Peer { $0.maxFrameBytes = 1000 }
        q.handshake()
        let big = Frame(kind: .request, method: .health, callID: 1, payload: [UInt8](repeating: 0, count: 1001)).encoded()
        // Refused from its header alone, before the payload comes.
        let a = q.send(Array(big[..<16]))
        #expect(Self.goAway(a)?.0 == .resourceExhausted)
    }

    // MARK: Descriptors

    @Test func aFlaggedRequestTakesTheOldestBatch() {
        var p = Peer()
        p.handshake()
        #expect(p.descriptors([100, 101]).isEmpty)
        #expect(p.descriptors([102]).isEmpty)
        let actions = p.send(Self.request(1, descriptors: true), Self.request(2), Self.request(3, descriptors: true))
        let files = actions.compactMap { a -> Machine.PassedFiles? in if case .startCall(_, let f) = a { f } else { nil } }
        #expect(files == [.files([FileDescriptor(rawValue: 100), FileDescriptor(rawValue: 101)]), .none,
                          .files([FileDescriptor(rawValue: 102)])])
    }

    @Test func aFlaggedRequestWithoutDescriptorsIsTheCallsProblem() {
        var p = Peer()
        p.handshake()
        let actions = p.send(Self.request(1, descriptors: true))
        #expect(actions.count == 1)
        guard case .startCall(_, .missing)? = actions.first else { Issue.record("\(actions)"); return }
        #expect(!p.machine.closing)
    }

    @Test func aBatchOverThePerCallLimitIsClosedAndItsCallFailsAlone() {
        var p = Peer { $0.maxDescriptorsPerCall = 2 }
        p.handshake()
        let arrival = p.descriptors([1, 2, 3])
        #expect(arrival == [.closeDescriptors([1, 2, 3].map(FileDescriptor.init(rawValue:)))])
        let actions = p.send(Self.request(1, descriptors: true))
        guard case .startCall(_, .refused(count: 3))? = actions.first else { Issue.record("\(actions)"); return }
        #expect(!p.machine.closing)
    }

    @Test func unclaimedDescriptorsAreBoundedAndClosed() {
        var p = Peer()
        p.handshake()
        var last: [Action] = []
        for i in 0...Machine.maxPendingBatches { last = p.descriptors([Int32(200 + i)]) }
        #expect(Self.goAway(last)?.1.contains("without REQUEST frames flagged DESCRIPTORS") == true)
        let closed = last.flatMap { a -> [FileDescriptor] in if case .closeDescriptors(let d) = a { d } else { [] } }
        #expect(closed.count == Machine.maxPendingBatches + 1)
        // Descriptors arriving after that are closed at once.
        #expect(p.descriptors([300]) == [.closeDescriptors([FileDescriptor(rawValue: 300)])])
    }

    @Test func aTruncatedBatchEndsTheConnection() {
        var p = Peer()
        p.handshake()
        #expect(Self.goAway(p.descriptors([1], truncated: true))?.1 == "too many descriptors in one message")
    }

    @Test func closingReturnsUnclaimedDescriptorsAndTheReservation() {
        var p = Peer()
        p.handshake()
        _ = p.descriptors([7, 8])
        let header = Frame(kind: .request, method: .health, callID: 1, payload: [UInt8](repeating: 1, count: 1 << 20)).encoded()
        _ = p.send(Array(header[..<16]))
        #expect(p.budget.reservedBytes == (1 << 20) + 16)
        #expect(p.machine.close(budget: &p.budget) == [7, 8].map(FileDescriptor.init(rawValue:)))
        #expect(p.budget.reservedBytes == 0)
    }

    // MARK: Back-pressure

    @Test func aLargeFrameIsReadOnlyOnceItsRoomIsReserved() {
        let size = 1 << 20
        var p = Peer { $0.maxBufferedBytes = size + 16 + 100 }
        p.handshake()
        #expect(p.machine.readAllowance == ConnectionBudget.smallFrameBytes)
        let frame = Frame(kind: .request, method: .health, callID: 1, payload: [UInt8](repeating: 1, count: size)).encoded()
        _ = p.send(Array(frame[..<16]))
        #expect(p.machine.reserved == size + 16)
        #expect(p.machine.readAllowance == size + ConnectionBudget.smallFrameBytes)

        // A second connection's large frame finds no room and waits, unread.
        var other = Machine(uid: 1001, isAdmin: false, serverName: "t", now: p.now)
        _ = other.receive(Frame.hello(Hello(major: ProtocolVersion.major)).encoded()[...], now: p.now, limits: p.limits, budget: &p.budget, callInFlight: { _ in false })
        _ = other.receive(frame[..<16], now: p.now, limits: p.limits, budget: &p.budget, callInFlight: { _ in false })
        #expect(other.awaitingReservation)
        #expect(other.readAllowance == ConnectionBudget.smallFrameBytes - 16)
        // Its frame clock does not run while it waits (the wait is not its fault).
        #expect(other.tick(now: p.now + 3600 * Self.second, limits: p.limits, quiet: false, budget: &p.budget).isEmpty)

        // The first frame completes: its reservation goes back, and the waiting one gets it.
        let actions = p.send(Array(frame[16...]))
        #expect(Self.startedCalls(actions) == [1])
        #expect(p.machine.reserved == 0)
        other.retryReservation(now: p.now, limits: p.limits, budget: &p.budget)
        #expect(!other.awaitingReservation)
        #expect(other.reserved == size + 16)
    }

    @Test func theClientStopsBeingReadWhileItDoesNotReadItsReplies() {
        var p = Peer()
        p.handshake()
        #expect(p.machine.wantsToRead(pendingOutput: 1 << 20))
        #expect(!p.machine.wantsToRead(pendingOutput: 32 << 20))
    }

    // MARK: Half-close and timeouts

    @Test func halfCloseServesWhatArrivedThenStopsReading() {
        var p = Peer()
        p.handshake()
        let actions = p.send(Self.request(1))
        p.machine.receiveEndOfStream()
        #expect(Self.startedCalls(actions) == [1])
        #expect(p.machine.readClosed)
        #expect(!p.machine.closing)
        #expect(!p.machine.wantsToRead(pendingOutput: 0))
    }

    @Test func aFrameThatDoesNotCompleteInTimeEndsTheConnection() {
        var p = Peer { $0.frameTimeoutSeconds = 30 }
        p.handshake()
        _ = p.send(Array(Self.request(1).encoded().prefix(10)))
        #expect(p.machine.hasTimerRunning)
        #expect(p.tick(after: 29, quiet: false).isEmpty)
        let actions = p.tick(after: 1, quiet: false)
        #expect(Self.goAway(actions)?.0 == .deadlineExceeded)
        #expect(Self.goAway(actions)?.1.contains("10 bytes came") == true)
    }

    @Test func idleTimeRunsFromTheLastCompleteFrame() {
        var p = Peer { $0.idleTimeoutSeconds = 60; $0.frameTimeoutSeconds = 1000 }
        p.handshake()
        #expect(p.tick(after: 59).isEmpty)
        // A trickle of bytes that never makes a frame does not reset it…
        _ = p.send([0])
        let actions = p.tick(after: 1)
        guard case .closeIdle(let frame)? = actions.last else { Issue.record("\(actions)"); return }
        #expect(frame.status == .unavailable)
        // …and calls in flight hold it off.
        var q = Peer { $0.idleTimeoutSeconds = 60 }
        q.handshake()
        #expect(q.tick(after: 120, quiet: false).isEmpty)
    }
}
