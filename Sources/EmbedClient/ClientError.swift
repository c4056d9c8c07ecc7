import EmbedSys
import EmbedWire

/// Why a client call failed.
public enum ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Could not connect to the socket.
    case connect(path: String, Errno)
    /// A read or write on the connection failed.
    case io(Errno)
    /// The server closed the connection.
    case closed
    /// The server said goodbye (GOAWAY) with a status.
    case goAway(StatusCode, String)
    /// The server sent bytes that are not valid protocol.
    case protocolViolation(String)
    /// The call failed with a status.
    case rpc(StatusCode, String)
    /// No reply within the client-side timeout.
    case timedOut

    /// The gRPC status of an `rpc`/`goAway` failure.
    public var status: StatusCode? {
        switch self {
        case .rpc(let c, _), .goAway(let c, _): return c
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .connect(let path, let e):
            if e == .noSuchFile { return "cannot connect to \(path): no such socket (is embedd running? set --socket or EMBEDD_SOCKET)" }
            if e == .connectionRefused { return "cannot connect to \(path): connection refused (embedd is not running)" }
            if e == .permissionDenied { return "cannot connect to \(path): permission denied (are you in the socket's group?)" }
            if e == .isDirectory { return "cannot connect to \(path): it is a directory, not embedd's socket (set --socket or EMBEDD_SOCKET to the socket file itself)" }
            if e == .notASocket { return "cannot connect to \(path): it is a regular file, not a socket (set --socket or EMBEDD_SOCKET to embedd's socket)" }
            return "cannot connect to \(path): \(e)"
        case .io(let e): return "connection error: \(e)"
        case .closed: return "the server closed the connection"
        case .goAway(let c, let m): return "the server closed the connection: \(c): \(m)"
        case .protocolViolation(let m): return "protocol error: \(m)"
        case .rpc(let c, let m): return "\(c): \(m)"
        case .timedOut: return "timed out waiting for the server"
        }
    }
}
