/// Who is on the other end of a Unix socket, as the kernel recorded it at `connect` time
/// (`SO_PEERCRED`). Cannot be forged by the peer.
public struct PeerCredentials: Sendable, Equatable, CustomStringConvertible {
    /// The peer's process id.
    public let pid: Int32
    /// The peer's effective user id.
    public let uid: UInt32
    /// The peer's effective group id.
    public let gid: UInt32

    /// Creates credentials from raw ids.
    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    public var description: String { "pid \(pid) uid \(uid) gid \(gid)" }
}
