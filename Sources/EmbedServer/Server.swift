import EmbedConfig
import EmbedPluginHost
import EmbedSys
import EmbedWire
import Synchronization

/// The RPC server: one event-loop thread that accepts connections, reads and decodes frames,
/// dispatches calls through a table keyed by method id, and writes replies.
///
/// Handlers run inline (cheap ones), on the compute pool (plugin calls) or on the admin thread.
/// The loop never blocks on a handler — the one piece of real work it does itself is a short
/// search that cannot wait (see `claimInlineTurn`); workers hand replies back through each
/// connection's outbox and a wake-up eventfd. Signals arrive as a readable signalfd.
public final class Server: @unchecked Sendable {
    // Invariant: everything not behind a Mutex/Atomic is touched only by the event-loop thread
    // (the thread that calls `run()`), after `init` and the `register` calls that precede it.
    let log: Logger
    private var listeners: [FileDescriptor]
    /// While out of descriptors (EMFILE/ENFILE) the listeners are left out of the poll set
    /// until this time: a pending connection keeps them readable, and polling them would spin.
    private var acceptPausedUntil: UInt64 = 0
    private let signals: Signals?
    private let wakeup: WakeupEvent
    private let notify: SdNotify
    private var handlers: [MethodID: MethodHandler] = [:]
    /// The series of each registered method (read by the event loop, like `handlers`).
    private var methodMetrics: [MethodID: MethodMetrics] = [:]
    private let compute: WorkQueue
    private let admin: WorkQueue
    private var connections: [Int32: Connection] = [:]
    /// Connections per uid and the buffer reservations of large frames (event loop only).
    private var budget = ConnectionBudget()
    private var nextConnectionID = 1
    private let watchdogInterval: Double?
    private var nextWatchdog: UInt64 = 0
    /// This turn's inline slot (`CallContext.claimInlineTurn`).
    private let inlineTurn = InlineTurn()
    /// When the loop last finished a turn that started a call (`busyPoll`).
    private var lastRequestRead: UInt64 = 0
    /// Whether this turn started a call (a REQUEST frame, not an EOF or a partial frame).
    private var requestThisTurn = false

    /// Lifecycle state, limits, admin group and counters, shared with the services.
    public let shared: ServingState
    private let drainRequested = Atomic<Bool>(false)
    private var drainDeadline: UInt64 = 0
    private var draining = false

    /// Called on the event loop when SIGHUP arrives.
    public var onReload: (@Sendable () -> Void)?
    /// Called on the event loop when SIGTERM/SIGINT arrives, before draining starts.
    public var onStop: (@Sendable () -> Void)?
    /// Consulted before each systemd watchdog ping (without a watchdog, every 15 s): a problem
    /// (a wedged model) withholds the ping, so systemd restarts the daemon (WatchdogSec); the
    /// text is logged either way.
    public var wedged: (@Sendable (UInt64) -> String?)?
    private var lastWedgedLog: UInt64 = 0
    private var nextWedgedCheck: UInt64 = 0

    /// Server identity sent in HelloReply.
    public var serverName = "embedd"

    public init(listeners: [FileDescriptor], signals: Signals?, shared: ServingState, computeThreads: Int,
                notify: SdNotify, log: Logger) throws(Errno) {
        self.shared = shared
        self.listeners = listeners
        self.signals = signals
        self.log = log
        self.notify = notify
        wakeup = try WakeupEvent()
        compute = try WorkQueue(name: "compute", threads: computeThreads)
        admin = try WorkQueue(name: "admin", threads: 1)
        watchdogInterval = SdNotify.watchdogInterval()
        for l in listeners { try l.setNonBlocking(true) }
    }

    // MARK: Configuration

    /// Adds the handler of a method id. Call before `run()`. Each method is registered exactly
    /// once: a second registration is a programming error (it once silently replaced Embed's).
    public func register(_ method: MethodID, _ handler: MethodHandler) {
        precondition(handlers[method] == nil, "method \(method) is registered twice")
        handlers[method] = handler
        methodMetrics[method] = shared.metrics.method(method)
    }

    /// Runs `job` on the admin thread (serialised with admin calls).
    public func runOnAdminThread(_ job: @escaping @Sendable () -> Void) { admin.submit(job) }

    /// Asks the loop to start draining (as SIGTERM does). Thread-safe.
    public func requestStop() {
        drainRequested.store(true, ordering: .releasing)
        wakeup.signal()
    }

    // MARK: Event loop

    /// Serves until a stop is requested and the drain completes; then stops the worker threads.
    public func run() {
        let now = Clock.monotonicNanoseconds()
        if let w = watchdogInterval { nextWatchdog = now + UInt64(w / 2 * 1e9) }
        var readBuffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            var entries: [Poll.Entry] = [Poll.Entry(wakeup.descriptor, .readable)]
            if let signals { entries.append(Poll.Entry(signals.descriptor, .readable)) }
            let fixed = entries.count
            if Clock.monotonicNanoseconds() >= acceptPausedUntil {
                for l in listeners { entries.append(Poll.Entry(l, .readable)) }
            }
            let listenerEnd = entries.count
            var order: [Connection] = []
            let turnStart = Clock.monotonicNanoseconds()
            let turnLimits = shared.limits  // once per turn, not once per connection
            for c in connections.values {
                var ev: Poll.Events = []
                // Back-pressure: stop reading from a client that does not read its replies, and
                // from one whose large frame waits for room in the buffer budget.
                if c.machine.awaitingReservation { c.machine.retryReservation(now: turnStart, limits: turnLimits, budget: &budget) }
                if c.machine.wantsToRead(pendingOutput: c.pendingOutput) { ev.insert(.readable) }
                if c.pendingOutput > 0 { ev.insert(.writable) }
                entries.append(Poll.Entry(c.fd, ev))
                order.append(c)
            }
            var timeout = pollTimeout()
            if acceptPausedUntil > 0 { timeout = min(timeout, 100) }
            // Frame timeouts and reservations that may free up are checked at least this often.
            if connections.values.contains(where: { $0.machine.hasTimerRunning }) { timeout = min(timeout, 100) }
            do {
                if try !busyPoll(&entries) { _ = try Poll.wait(&entries, timeoutMilliseconds: timeout) }
            } catch {
                log.error("poll failed: \(error)")
                Clock.sleep(seconds: 0.01)
                continue
            }
            let now = Clock.monotonicNanoseconds()
            inlineTurn.reset()
            requestThisTurn = false
            if entries[0].returned.contains(.readable) { wakeup.reset() }
            if let signals, entries[1].returned.contains(.readable) {
                // SIGTERM and SIGINT first: with a SIGHUP pending beside them (signalfd hands
                // out the lowest number first), the reload must not run during the drain.
                let pending = signals.drain()
                let stops: Set<Int32> = [Signals.terminate, Signals.interrupt]
                for s in pending.filter({ stops.contains($0) }) + pending.filter({ !stops.contains($0) }) { handleSignal(s) }
            }
            if drainRequested.load(ordering: .acquiring) && !draining { beginDrain(now: now) }
            // Reads (and hang-ups) before accepts, so closed connections free their slot first.
            for (k, c) in order.enumerated() {
                let r = entries[listenerEnd + k].returned
                guard connections[c.fd.rawValue] === c else { continue }
                if c.readClosed {
                    // Half-closed: only a full hang-up matters (nobody left to answer).
                    if r.contains(.hangUp) || r.contains(.error) { close(c, reason: "peer hung up") }
                } else if r.contains(.readable) || r.contains(.hangUp) || r.contains(.error) {
                    if c.machine.readAllowance <= 0 {
                        // Not read from (back-pressure) and gone: nobody is left to answer.
                        close(c, reason: "peer hung up in the middle of a frame")
                        continue
                    }
                    readFrom(c, buffer: &readBuffer, now: now)
                    if c.readClosed && c.callCount == 0 && c.pendingOutput == 0 && connections[c.fd.rawValue] === c {
                        close(c, reason: "peer closed the connection")
                    }
                }
            }
            if fixed < listenerEnd {
                for i in fixed..<listenerEnd where !entries[i].returned.isEmpty { acceptAll(entries[i].descriptor, now: now) }
            }
            // Flush every connection with pending output (workers' replies woke us).
            for c in Array(connections.values) {
                if c.pendingOutput > 0 && !c.flush() { close(c, reason: "peer went away while we were writing") ; continue }
                if c.closeAfterFlush && (c.pendingOutput == 0 || now >= c.closeDeadline) { close(c, reason: nil); continue }
                if c.readClosed && c.callCount == 0 && c.pendingOutput == 0 { close(c, reason: "peer finished sending") }
            }
            // After the turn's own work (an inline search, the flush): the window is for the
            // client's next call, which cannot come before it has read this turn's reply.
            if requestThisTurn { lastRequestRead = Clock.monotonicNanoseconds() }
            timers(now: now)
            if draining && drainFinished(now: now) { break }
        }
        finishDrain()
    }

    /// `limits.busy_poll`: right after a turn that started a call, and only when no call is in
    /// flight (nothing is computing that this CPU could serve instead), polls without sleeping
    /// until something is ready or the window closes. So it follows the calls the loop answers
    /// itself (Health, Status, short searches); calls answered by worker threads are still in
    /// flight when the loop goes back to poll. A lone client's next call then finds the loop
    /// awake: on a VM whose idle CPUs halt, that saves a wake-up per call (docs/operations.md,
    /// `limits.busy_poll`). Returns whether something is ready.
    private func busyPoll(_ entries: inout [Poll.Entry]) throws(Errno) -> Bool {
        let window = shared.limits.busyPollNanos
        guard window > 0, lastRequestRead > 0, shared.callsInFlight.load(ordering: .relaxed) == 0 else { return false }
        let end = lastRequestRead &+ window
        while Clock.monotonicNanoseconds() < end {
            if try Poll.wait(&entries, timeoutMilliseconds: 0) > 0 { return true }
        }
        return false
    }

    private func pollTimeout() -> Int32 {
        var ms: Int32 = 1000
        if shared.callsInFlight.load(ordering: .relaxed) > 0 || draining { ms = 50 }
        if connections.values.contains(where: { $0.closeAfterFlush }) { ms = min(ms, 50) }
        if let _ = watchdogInterval {
            let now = Clock.monotonicNanoseconds()
            let left = nextWatchdog > now ? Int32(min((nextWatchdog - now) / 1_000_000, 1000)) : 0
            ms = min(ms, left)
        }
        return ms
    }

    private func handleSignal(_ s: Int32) {
        switch s {
        case Signals.hangUp:
            if draining || drainRequested.load(ordering: .acquiring) {
                log.notice("SIGHUP ignored: the daemon is shutting down")
                return
            }
            log.notice("SIGHUP: reloading configuration and models")
            onReload?()
        case Signals.terminate, Signals.interrupt:
            log.notice(s == Signals.terminate ? "SIGTERM: draining" : "SIGINT: draining")
            drainRequested.store(true, ordering: .releasing)
        default:
            break
        }
    }

    // MARK: Accept

    private func acceptAll(_ listener: FileDescriptor, now: UInt64) {
        while true {
            let fd: FileDescriptor?
            do { fd = try UnixSocket.accept(listener) } catch {
                if error == Errno.tooManyOpenFiles || error == Errno.fileTableOverflow {
                    // Connections wait in the backlog until descriptors free up; try again
                    // in 100 ms instead of spinning on a listener that stays readable.
                    if acceptPausedUntil == 0 { log.error("accept failed: \(error); pausing new connections (raise LimitNOFILE?)") }
                    acceptPausedUntil = now + 100_000_000
                } else {
                    log.warning("accept failed: \(error)")
                }
                return
            }
            acceptPausedUntil = 0
            guard let fd else { return }
            let peer: PeerCredentials
            do { peer = try UnixSocket.peerCredentials(fd) } catch {
                log.warning("SO_PEERCRED failed on a new connection (\(error)); closing it")
                try? fd.close()
                continue
            }
            // The groups the peer's process holds now (SO_PEERGROUPS) decide admin rights and
            // collection group grants alike; the group database only on kernels without it.
            let groups = UnixSocket.peerGroups(fd).map { [peer.gid] + $0 }
            let isAdmin: Bool
            if peer.uid == 0 {
                isAdmin = true
            } else if let gid = shared.adminGroup {
                isAdmin = groups?.contains(gid) ?? UserDatabase.isMember(uid: peer.uid, gid: peer.gid, of: gid)
            } else {
                isAdmin = false
            }
            let limits = shared.limits
            if let refusal = admissionRefusal(uid: peer.uid, isAdmin: isAdmin, limits) {
                log.warning("refusing connection from \(peer): \(refusal)")
                var bytes: [UInt8] = []
                Frame.goAway(status: .resourceExhausted, message: refusal).encode(into: &bytes)
                _ = bytes.withUnsafeBytes { raw in try? UnixSocket.send(fd, raw) }
                try? fd.close()
                continue
            }
            let c = Connection(fd: fd, id: nextConnectionID, peer: peer, groups: groups, isAdmin: isAdmin, serverName: serverName, now: now)
            nextConnectionID += 1
            connections[fd.rawValue] = c
            budget.opened(by: peer.uid)
            shared.connectionCount.store(connections.count, ordering: .relaxed)
            log.debug("connection \(c.id) from \(peer)\(isAdmin ? " (admin)" : "")")
        }
    }

    /// Why a new connection of `uid` is refused, or nil. uid 0 and the admin group may use
    /// the `reserved_connections` slots and have no per-uid cap, so an operator can always get
    /// in to see what is happening; everyone else shares the rest, at most
    /// `max_connections_per_uid` each.
    private func admissionRefusal(uid: UInt32, isAdmin: Bool, _ limits: ServerLimits) -> String? {
        if connections.count >= limits.maxConnections {
            return "too many connections (limit \(limits.maxConnections), limits.max_connections)"
        }
        guard !isAdmin else { return nil }
        let open = limits.maxConnections - limits.reservedConnections
        if connections.count >= open {
            return "too many connections: the \(open) slots open to every user are taken (limits.max_connections \(limits.maxConnections), of which limits.reserved_connections \(limits.reservedConnections) are kept for uid 0 and the admin group)"
        }
        if budget.connections(of: uid) >= limits.maxConnectionsPerUID {
            return "uid \(uid) already has \(budget.connections(of: uid)) connections open (limits.max_connections_per_uid \(limits.maxConnectionsPerUID)): close some, or share one (calls may run concurrently on a connection)"
        }
        return nil
    }

    // MARK: Read and dispatch

    private func readFrom(_ c: Connection, buffer: inout [UInt8], now: UInt64) {
        // Read what is there now (bounded, so one busy client cannot starve the others).
        var total = 0
        while total < 4 << 20 {
            // Never more than the connection's allowance: a frame's memory is taken as its
            // bytes arrive, and a large one only once it holds a reservation.
            let room = min(buffer.count, c.machine.readAllowance)
            if room <= 0 || c.closeAfterFlush { break }
            // recvmsg, not recv: clients may pass open files with a frame (SCM_RIGHTS).
            let received = buffer.withUnsafeMutableBytes { raw in
                Result { () throws(Errno) in try DescriptorPassing.receive(c.fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[..<room])) }
            }
            if case .success(let r) = received, !r.descriptors.isEmpty {
                perform(c.machine.receiveDescriptors(r.descriptors, truncated: r.truncated, now: now, limits: shared.limits, budget: &budget),
                        on: c, now: now)
                if c.closeAfterFlush { return }
            }
            switch received.map({ $0.count }) {
            case .failure(let e):
                close(c, reason: "read failed: \(e)")
                return
            case .success(nil):
                total = Int.max  // drained the socket
            case .success(0):
                // End of stream: the peer may still read. Serve what arrived, then close
                // once every call is answered (see the flush loop).
                c.machine.receiveEndOfStream()
                c.machineChanged()
                total = Int.max
            case .success(let n?):
                // Decoded as bytes arrive: a large frame's header must reserve its room
                // before the allowance lets more of it in.
                let waited = c.machine.awaitingReservation
                let actions = c.machine.receive(buffer[..<n], now: now, limits: shared.limits, budget: &budget,
                                                callInFlight: { c.call($0) != nil })
                perform(actions, on: c, now: now)
                if c.machine.awaitingReservation && !waited {
                    log.debug("connection \(c.id): a large frame waits for room in limits.max_buffered_bytes (\(budget.reservedBytes) bytes reserved)")
                }
                total += n
            }
        }
    }

    /// Carries out what `c`'s protocol state machine asked for.
    private func perform(_ actions: [ConnectionStateMachine.Action], on c: Connection, now: UInt64) {
        c.machineChanged()
        for action in actions {
            switch action {
            case .send(let frame):
                c.enqueue(frame)
            case .startCall(let frame, let files):
                requestThisTurn = true
                startCall(frame, files: files, on: c, limits: shared.limits, now: now)
            case .cancelCall(let id):
                if let call = c.call(id) {
                    call.cancellation.cancel()
                    answer(call, on: c, .failure(RPCError(.cancelled, "cancelled by the client")))
                }
            case .closeDescriptors(let descriptors):
                for d in descriptors { try? d.close() }
            case .goAway(let frame, let problem):
                log.info("connection \(c.id) (\(c.peer)): \(problem); closing it")
                c.enqueue(frame)
                cancelCalls(of: c)
            case .closeIdle(let frame):
                log.debug("connection \(c.id) idle for \(shared.limits.idleTimeoutNanos / 1_000_000_000) s; closing it")
                c.enqueue(frame)
            }
        }
    }

    private func startCall(_ frame: Frame, files passedFiles: ConnectionStateMachine.PassedFiles, on c: Connection,
                           limits: ServerLimits, now: UInt64) {
        let metrics = methodMetrics[frame.method] ?? shared.metrics.otherMethods
        let fail = { (code: StatusCode, message: String) in
            metrics.record(code, nanoseconds: nil)
            _ = c.enqueue(.failure(callID: frame.callID, method: frame.method, status: code, message: message))
        }
        // The frame's files belong to the call from here: a refused call's close when `files`
        // goes out of scope.
        var files: PassedDescriptors? = nil
        if case .files(let d) = passedFiles { files = PassedDescriptors(d) }
        guard let handler = handlers[frame.method] else {
            fail(.unimplemented, "method \(frame.method) (id \(frame.method.rawValue)) is not implemented by this server")
            return
        }
        if draining && !handler.allowedWhileDraining {
            fail(.unavailable, "the server is shutting down")
            return
        }
        if handler.requiresAdmin && !c.isAdmin {
            log.notice("denied \(frame.method) to \(c.peer): not root and not in the admin group")
            fail(.permissionDenied, "\(frame.method) is an admin method: it needs uid 0 or membership in the admin group (you are uid \(c.peer.uid))")
            return
        }
        guard c.callCount < limits.maxCallsPerConnection else {
            fail(.resourceExhausted, "too many calls in flight on this connection (limit \(limits.maxCallsPerConnection))")
            return
        }
        var budget = limits.callDeadlineNanos
        if frame.deadlineMilliseconds > 0 { budget = min(budget, UInt64(frame.deadlineMilliseconds) * 1_000_000) }
        let call = Call(id: frame.callID, method: frame.method, deadline: now + budget, started: now, metrics: metrics)
        _ = c.add(call)
        shared.callsTotal.add(1, ordering: .relaxed)
        shared.callsInFlight.add(1, ordering: .relaxed)
        var passed = CallContext(peer: c.peer, groups: c.groups, connection: c.id, isAdmin: c.isAdmin, method: frame.method,
                                 deadline: call.deadline, cancellation: call.cancellation)
        switch passedFiles {
        case .none: break
        case .refused(let count):
            answer(call, on: c, .failure(RPCError(.resourceExhausted,
                "\(count) files passed with this call; the limit is \(limits.maxDescriptorsPerCall) (limits.max_descriptors_per_call): pass fewer per call")))
            return
        case .missing:
            // The frame's descriptors ride on its first bytes, so they arrive before it completes.
            answer(call, on: c, .failure(RPCError(.invalidArgument, "the frame is flagged DESCRIPTORS but no descriptors arrived with it")))
            return
        case .files:
            passed.files = files
        }
        if handler.executor == .deferred { passed.inlineTurn = inlineTurn }
        let context = passed
        let payload = frame.payload
        let job: @Sendable () -> Void = { [self] in
            if call.isAnswered { return }
            let result: Result<[UInt8], RPCError>
            do throws(RPCError) {
                try context.checkAlive()
                result = .success(try handler.handle(context, payload))
            } catch {
                result = .failure(error)
            }
            answer(call, on: c, result)
        }
        switch handler.executor {
        case .inline: job()
        case .compute:
            if !compute.submit(job) { answer(call, on: c, .failure(RPCError(.unavailable, "the server is shutting down"))) }
        case .admin:
            if !admin.submit(job) { answer(call, on: c, .failure(RPCError(.unavailable, "the server is shutting down"))) }
        case .deferred:
            if let start = handler.start {
                start(context, payload) { [self] result in answer(call, on: c, result) }
            } else {
                answer(call, on: c, .failure(RPCError(.internal, "method \(frame.method) has no deferred start")))
            }
        }
    }

    /// Sends the one reply of `call` (if nobody has yet) and retires it. Any thread.
    private func answer(_ call: Call, on c: Connection, _ result: Result<[UInt8], RPCError>) {
        guard call.claim() else { return }
        // Written from this thread at once; the event loop is woken only for what the socket
        // did not take and for its bookkeeping (closing half-closed connections, draining) —
        // a wake-up per reply costs an idle CPU's wake on a quiet machine.
        let needLoop: Bool
        switch result {
        case .success(let payload):
            let limit = shared.limits.maxFrameBytes
            if payload.count > limit {
                // Clients refuse frames over the limit (and a length over 4 GiB cannot be framed).
                let message = "the reply to \(call.method) would be \(payload.count) bytes, over max_frame_bytes (\(limit)): ask for less per call"
                log.warning("\(message) (connection \(c.id))")
                call.recordEnd(.resourceExhausted)
                needLoop = c.finish(call, reply: .failure(callID: call.id, method: call.method, status: .resourceExhausted, message: message))
            } else {
                call.recordEnd(.ok)
                needLoop = c.finish(call, reply: Frame(kind: .response, method: call.method, callID: call.id, word: StatusCode.ok.rawValue, payload: payload))
            }
        case .failure(let e):
            if e.code == .internal || e.code == .unknown { log.warning("\(call.method) failed for connection \(c.id): \(e.message)") }
            call.recordEnd(e.code)
            needLoop = c.finish(call, reply: .failure(callID: call.id, method: call.method, status: e.code, message: e.message))
        }
        shared.callsInFlight.subtract(1, ordering: .relaxed)
        if needLoop || drainRequested.load(ordering: .acquiring) { wakeup.signal() }
    }

    private func cancelCalls(of c: Connection) {
        for call in c.calls {
            call.cancellation.cancel()
            if call.claim() {
                c.remove(call)
                call.recordEnd(.cancelled)
                shared.callsInFlight.subtract(1, ordering: .relaxed)
            }
        }
    }

    private func close(_ c: Connection, reason: String?) {
        guard connections[c.fd.rawValue] === c else { return }
        for call in c.markClosed() {
            call.cancellation.cancel()
            if call.claim() {
                call.recordEnd(.cancelled)  // its client is gone: nobody gets an answer
                shared.callsInFlight.subtract(1, ordering: .relaxed)
            }
        }
        for d in c.machine.close(budget: &budget) { try? d.close() }
        connections[c.fd.rawValue] = nil
        shared.connectionCount.store(connections.count, ordering: .relaxed)
        budget.closed(by: c.peer.uid)
        try? c.fd.close()
        if let reason { log.debug("connection \(c.id) closed: \(reason)") } else { log.debug("connection \(c.id) closed") }
    }

    // MARK: Timers

    /// Logs a wedged model at most every 10 s.
    private func logWedged(_ problem: String, now: UInt64, _ consequence: String) {
        guard lastWedgedLog == 0 || now - lastWedgedLog >= 10_000_000_000 else { return }
        log.error("\(problem); \(consequence)")
        lastWedgedLog = now
    }

    private func timers(now: UInt64) {
        if let w = watchdogInterval, now >= nextWatchdog {
            if let problem = wedged?(now) {
                logWedged(problem, now: now, "withholding the systemd watchdog ping so systemd restarts the daemon")
            } else {
                notify.watchdog()
            }
            nextWatchdog = now + UInt64(w / 2 * 1e9)
        } else if watchdogInterval == nil, now >= nextWedgedCheck {
            if let problem = wedged?(now) {
                logWedged(problem, now: now, "no systemd watchdog is set: restart the daemon to free the model")
            }
            nextWedgedCheck = now + 15_000_000_000
        }
        let limits = shared.limits
        for c in Array(connections.values) {
            for call in c.calls where now >= call.deadline {
                call.cancellation.cancel()
                answer(call, on: c, .failure(RPCError(.deadlineExceeded, "\(call.method) did not finish before its deadline")))
            }
            let quiet = c.callCount == 0 && c.pendingOutput == 0
            perform(c.machine.tick(now: now, limits: limits, quiet: quiet, budget: &budget), on: c, now: now)
        }
    }

    // MARK: Drain

    private func beginDrain(now: UInt64) {
        draining = true
        shared.state = .draining
        onStop?()
        let limits = shared.limits
        drainDeadline = now + limits.drainTimeoutNanos
        notify.stopping(status: "draining \(shared.callsInFlight.load(ordering: .relaxed)) call(s)")
        // Stop accepting: close the listeners (the socket file is removed by the owner).
        for l in listeners { try? l.close() }
        listeners = []
        log.notice("stopped accepting connections; waiting up to \(limits.drainTimeoutNanos / 1_000_000_000) s for \(shared.callsInFlight.load(ordering: .relaxed)) call(s) in flight")
    }

    private func drainFinished(now: UInt64) -> Bool {
        if shared.callsInFlight.load(ordering: .relaxed) == 0 {
            if connections.values.allSatisfy({ $0.pendingOutput == 0 }) { return true }
            // A client that does not read its replies must not hold the shutdown: past the
            // deadline the final flush (bounded) gives it what the socket takes.
            if now >= drainDeadline {
                log.warning("drain timeout: \(connections.values.filter { $0.pendingOutput > 0 }.count) connection(s) still have unread replies")
                return true
            }
            return false
        }
        if now >= drainDeadline {
            let left = shared.callsInFlight.load(ordering: .relaxed)
            log.warning("drain timeout: cancelling \(left) call(s) still in flight")
            for c in connections.values {
                for call in c.calls {
                    call.cancellation.cancel()
                    answer(call, on: c, .failure(RPCError(.unavailable, "the server shut down before the call finished")))
                }
            }
            return false  // next iteration flushes the replies
        }
        return false
    }

    private func finishDrain() {
        let end = Clock.monotonicNanoseconds() + 2_000_000_000
        for c in connections.values { c.enqueue(.goAway(status: .unavailable, message: "the server is shutting down")) }
        // Flush what we can within a short bound, then close everything.
        while Clock.monotonicNanoseconds() < end {
            var pending = false
            for c in Array(connections.values) where c.pendingOutput > 0 {
                if !c.flush() { close(c, reason: nil) } else if c.pendingOutput > 0 { pending = true }
            }
            if !pending { break }
            Clock.sleep(seconds: 0.005)
        }
        for c in Array(connections.values) { close(c, reason: nil) }
        compute.stop()
        admin.stop()
        shared.state = .stopped
    }
}
