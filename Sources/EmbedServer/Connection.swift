import EmbedSys
import EmbedWire
import Synchronization

/// One client connection.
///
/// Threading: the event loop owns the descriptor's reads, the read buffer and the close;
/// workers append replies to `outbox` and try to write them at once (`reply`), and the event
/// loop writes whatever the socket did not take. Every write happens under the outbox mutex
/// and after checking `closed` (set under the same mutex before the close), so frames never
/// interleave, never reach a recycled descriptor, and a reply to a closed connection is dropped.
final class Connection: @unchecked Sendable {
    // Event-loop-only state (never touched by workers): fd, the protocol state machine.
    let fd: FileDescriptor
    let id: Int
    let peer: PeerCredentials
    /// The groups the peer's process holds (`SO_PEERGROUPS`, with its gid), read at accept;
    /// nil where the kernel cannot tell (then the group database answers).
    let groups: [UInt32]?
    let isAdmin: Bool
    /// The protocol state: handshake, inbox, descriptors, reservation, timeouts. After
    /// changing it, call `machineChanged()`.
    var machine: ConnectionStateMachine
    /// When a GOAWAY'd connection closes even if its output is not flushed.
    var closeDeadline: UInt64 { machine.closeDeadline }
    var readClosed: Bool { machine.readClosed }
    var closeAfterFlush: Bool { machine.closing }
    private var wakeRequested = false

    /// After the machine changed: once the peer half-closed or a GOAWAY is queued, the event
    /// loop has bookkeeping after every reply (closing the connection once all are written).
    func machineChanged() {
        if !wakeRequested && (machine.readClosed || machine.closing) {
            wakeRequested = true
            shared.withLock { $0.wakeAfterReply = true }
        }
    }

    private struct Shared {
        var outbox: [UInt8] = []
        var outboxStart = 0
        var calls: [UInt32: Call] = [:]
        var closed = false
        /// The event loop has bookkeeping to do after each reply (closing a half-closed or
        /// GOAWAY'd connection); otherwise a fully written reply needs no wake-up.
        var wakeAfterReply = false
    }
    private let shared = Mutex(Shared())

    init(fd: FileDescriptor, id: Int, peer: PeerCredentials, groups: [UInt32]?, isAdmin: Bool, serverName: String, now: UInt64) {
        self.fd = fd
        self.id = id
        self.peer = peer
        self.groups = groups
        self.isAdmin = isAdmin
        machine = ConnectionStateMachine(uid: peer.uid, isAdmin: isAdmin, serverName: serverName, now: now)
    }

    /// Queues a frame for the event loop to write; false if the connection is closed.
    @discardableResult
    func enqueue(_ frame: Frame) -> Bool {
        shared.withLock { s in
            guard !s.closed else { return false }
            frame.encode(into: &s.outbox)
            return true
        }
    }

    /// Retires `call` and queues its reply in one step, then writes as much of the outbox as
    /// the socket takes without blocking, from the worker's thread: the reply leaves without
    /// waiting for the event loop to wake (two context switches on a busy machine). One step,
    /// so the event loop never sees the call gone but its reply not yet queued (it would close
    /// a half-closed connection too early), and the client never sees the reply while its call
    /// id is still taken. Errors are left to the event loop, which sees them on its next write
    /// or poll.
    /// - Returns: whether the event loop must run for this connection: output is left (the
    ///   socket was full or the write failed) or it has bookkeeping to do. False for a closed
    ///   connection (the reply is dropped).
    func finish(_ call: Call, reply frame: Frame) -> Bool {
        shared.withLock { s in
            if s.calls[call.id] === call { s.calls[call.id] = nil }
            guard !s.closed else { return false }
            frame.encode(into: &s.outbox)
            let sent = write(&s)
            return !sent || s.outboxStart < s.outbox.count || s.wakeAfterReply
        }
    }

    private func needEventLoopAfterReplies() { shared.withLock { $0.wakeAfterReply = true } }

    /// Sends the outbox until it is empty or the socket is full (outbox mutex held).
    /// - Returns: false if the send failed (the peer is gone).
    private func write(_ s: inout Shared) -> Bool {
        while s.outboxStart < s.outbox.count {
            let result = s.outbox.withUnsafeBytes { raw in
                Result { () throws(Errno) in try UnixSocket.send(fd, UnsafeRawBufferPointer(rebasing: raw[s.outboxStart...])) }
            }
            switch result {
            case .failure: return false
            case .success(nil): return true  // socket buffer full; the event loop polls for POLLOUT
            case .success(let n?): s.outboxStart += n
            }
        }
        s.outbox.removeAll(keepingCapacity: s.outbox.capacity <= 1 << 20)
        s.outboxStart = 0
        return true
    }

    /// Bytes waiting to be written.
    var pendingOutput: Int { shared.withLock { $0.outbox.count - $0.outboxStart } }

    /// Writes as much of the outbox as the socket takes without blocking.
    /// - Returns: false if the peer is gone (the caller closes the connection).
    func flush() -> Bool {
        shared.withLock { s in write(&s) }
    }

    // MARK: Calls in flight

    var callCount: Int { shared.withLock { $0.calls.count } }

    /// Registers a call; false if the id is already in flight.
    func add(_ call: Call) -> Bool {
        shared.withLock { s in
            guard s.calls[call.id] == nil else { return false }
            s.calls[call.id] = call
            return true
        }
    }

    func call(_ id: UInt32) -> Call? { shared.withLock { $0.calls[id] } }

    func remove(_ call: Call) {
        shared.withLock { s in
            if s.calls[call.id] === call { s.calls[call.id] = nil }
        }
    }

    var calls: [Call] { shared.withLock { Array($0.calls.values) } }

    /// Marks the connection closed (later replies are dropped) and returns its calls.
    func markClosed() -> [Call] {
        shared.withLock { s in
            s.closed = true
            let c = Array(s.calls.values)
            s.calls.removeAll()
            s.outbox = []
            s.outboxStart = 0
            return c
        }
    }
}
