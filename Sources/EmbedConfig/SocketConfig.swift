/// The `socket:` section: where the daemon listens and who may connect.
public struct SocketConfig: Sendable, Equatable {
    /// Path of the Unix socket (at most 107 bytes: `sun_path` holds 108 with the NUL).
    public var path: String = "/run/embedd/embedd.sock"
    /// Permission bits applied to the socket file (`chmod`), e.g. 0o660.
    public var mode: UInt32 = 0o660
    /// Group that owns the socket file (`chown`); nil keeps the daemon's group.
    public var group: String? = nil

    /// The defaults documented in etc/embedd/embedd.yaml.
    public init() {}
}
