/// Byte 4 of a frame header: what the frame is.
public enum FrameKind: UInt8, Sendable, CustomStringConvertible {
    /// Handshake: client → server carries `Hello`, server → client `HelloReply`.
    case hello = 1
    /// A call: method id, call id and deadline in the header, request message as payload.
    case request = 2
    /// The answer to a call: status in the header, response message or `RpcStatus` as payload.
    case response = 3
    /// Client → server: abandon the call with this call id (no payload).
    case cancel = 4
    /// Server → client: the connection is closing; status in the header, `RpcStatus` payload.
    case goAway = 5

    public var description: String {
        switch self {
        case .hello: return "HELLO"
        case .request: return "REQUEST"
        case .response: return "RESPONSE"
        case .cancel: return "CANCEL"
        case .goAway: return "GOAWAY"
        }
    }
}
