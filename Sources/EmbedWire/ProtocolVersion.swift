/// The protocol version negotiated by the HELLO exchange.
///
/// Rule: a server accepts a client with the same major version and any minor version; it
/// answers with its own version, and both sides use only what the lower minor defines.
public enum ProtocolVersion {
    /// Major version: a change here means incompatible framing or messages.
    public static let major: UInt32 = 1
    /// Minor version: additions only. 1.1 added OptimizeCollection (method id 42), 1.2 Scan (43),
    /// 1.3 Metrics (6), Changes and mirrors (44–47).
    public static let minor: UInt32 = 3
}
