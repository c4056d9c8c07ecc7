import EmbedPluginHost
import EmbedSys
import EmbedWire

/// What a handler knows about the call it serves.
public struct CallContext: Sendable {
    /// The peer process, from `SO_PEERCRED`.
    public let peer: PeerCredentials
    /// The groups the peer's process held when it connected (`SO_PEERGROUPS`, with its gid);
    /// nil on kernels that cannot tell.
    public let groups: [UInt32]?
    /// The connection the call came on (unique for the daemon's lifetime).
    public let connection: Int
    /// Whether the peer may call admin methods.
    public let isAdmin: Bool
    /// The method being called.
    public let method: MethodID
    /// Monotonic deadline (nanoseconds, `Clock.monotonicNanoseconds`).
    public let deadline: UInt64
    /// Raised when the client cancels, the deadline passes or the server stops.
    public let cancellation: CancellationFlag
    /// Files passed with the REQUEST frame (`SCM_RIGHTS`), nil when none were.
    var files: PassedDescriptors? = nil
    /// The loop's inline slot for this turn; nil outside the event loop's dispatch.
    var inlineTurn: InlineTurn? = nil

    /// For a deferred method's start, which runs on the event loop: whether the slot for
    /// doing a short piece of work right there is free this turn (see `InlineTurn`).
    /// Event-loop thread only: call it from the start closure itself, never from a worker.
    var inlineTurnAvailable: Bool { inlineTurn?.available ?? false }

    /// Takes this turn's inline slot; false if it is taken or the call did not start on the
    /// loop. Event-loop thread only, like `inlineTurnAvailable`.
    func claimInlineTurn() -> Bool { inlineTurn?.claim() ?? false }

    /// Whether the peer holds group `gid`: from the groups its process held at connect time,
    /// not from `/etc/group` (a process that dropped a group loses its rights; one given a
    /// supplementary group that the database does not list has them). The database answers
    /// only where the kernel cannot tell.
    public func holdsGroup(_ gid: UInt32) -> Bool {
        if let groups { return groups.contains(gid) }
        return peer.gid == gid || UserDatabase.isMember(uid: peer.uid, gid: peer.gid, of: gid)
    }

    /// Throws DEADLINE_EXCEEDED or CANCELLED if the call should not proceed.
    public func checkAlive() throws(RPCError) {
        if cancellation.isCancelled { throw RPCError(.cancelled, "the call was cancelled") }
        if Clock.monotonicNanoseconds() >= deadline { throw RPCError(.deadlineExceeded, "the call's deadline passed before it ran") }
    }
}
