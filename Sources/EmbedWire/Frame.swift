/// One frame: a fixed 16-byte header and a payload.
///
/// Header layout (all integers big-endian, see docs/protocol.md):
///
///     offset  size  field
///     0       4     payload length in bytes
///     4       1     kind (FrameKind)
///     5       1     flags (bit 0: END_OF_CALL; other bits reserved, sent as 0, ignored)
///     6       2     method id (REQUEST; echoed in RESPONSE; 0 otherwise)
///     8       4     call id (chosen by the client, unique among its calls in flight)
///     12      4     REQUEST: deadline in milliseconds from receipt (0 = server default);
///                   RESPONSE / GOAWAY: status code; otherwise 0
///     16      n     payload
public struct Frame: Sendable, Equatable {
    /// Size of the fixed header.
    public static let headerSize = 16
    /// Flag bit 0: this frame ends the call (always set on unary requests and responses).
    public static let endOfCall: UInt8 = 1

    public var kind: FrameKind
    public var flags: UInt8
    public var method: MethodID
    public var callID: UInt32
    /// Deadline in ms (REQUEST) or status code (RESPONSE, GOAWAY): the same 4 header bytes.
    public var word: UInt32
    public var payload: [UInt8]

    /// Creates a frame from its parts.
    public init(kind: FrameKind, flags: UInt8 = Frame.endOfCall, method: MethodID = MethodID(rawValue: 0),
                callID: UInt32 = 0, word: UInt32 = 0, payload: [UInt8] = []) {
        self.kind = kind
        self.flags = flags
        self.method = method
        self.callID = callID
        self.word = word
        self.payload = payload
    }

    /// The status code of a RESPONSE or GOAWAY frame.
    public var status: StatusCode { StatusCode(rawValue: word) }
    /// The deadline of a REQUEST frame in milliseconds (0 = none given).
    public var deadlineMilliseconds: UInt32 { word }

    // MARK: Constructors for each kind

    /// A HELLO frame carrying `message` (`Hello` or `HelloReply`).
    public static func hello(_ message: some ProtoMessage) -> Frame {
        Frame(kind: .hello, payload: message.serializedBytes())
    }

    /// A REQUEST frame.
    public static func request(callID: UInt32, method: MethodID, deadlineMilliseconds: UInt32 = 0,
                               message: some ProtoMessage) -> Frame {
        Frame(kind: .request, method: method, callID: callID, word: deadlineMilliseconds,
              payload: message.serializedBytes())
    }

    /// An OK RESPONSE frame carrying the response message.
    public static func response(callID: UInt32, method: MethodID, message: some ProtoMessage) -> Frame {
        Frame(kind: .response, method: method, callID: callID, word: StatusCode.ok.rawValue,
              payload: message.serializedBytes())
    }

    /// An error RESPONSE frame carrying `RpcStatus`.
    public static func failure(callID: UInt32, method: MethodID, status: StatusCode, message: String) -> Frame {
        Frame(kind: .response, method: method, callID: callID, word: status.rawValue,
              payload: RpcStatus(code: status.rawValue, message: message).serializedBytes())
    }

    /// A CANCEL frame.
    public static func cancel(callID: UInt32) -> Frame {
        Frame(kind: .cancel, callID: callID)
    }

    /// A GOAWAY frame.
    public static func goAway(status: StatusCode, message: String) -> Frame {
        Frame(kind: .goAway, word: status.rawValue,
              payload: RpcStatus(code: status.rawValue, message: message).serializedBytes())
    }

    /// The frame's bytes on the wire: header then payload.
    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(Frame.headerSize + payload.count)
        encode(into: &out)
        return out
    }

    /// Appends the frame's bytes to `out`.
    public func encode(into out: inout [UInt8]) {
        let length = UInt32(payload.count)
        out.append(contentsOf: [UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16),
                                UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)])
        out.append(kind.rawValue)
        out.append(flags)
        out.append(UInt8(method.rawValue >> 8))
        out.append(UInt8(truncatingIfNeeded: method.rawValue))
        for shift: UInt32 in [24, 16, 8, 0] { out.append(UInt8(truncatingIfNeeded: callID >> shift)) }
        for shift: UInt32 in [24, 16, 8, 0] { out.append(UInt8(truncatingIfNeeded: word >> shift)) }
        out.append(contentsOf: payload)
    }

    /// Decodes the payload as message `M`.
    public func decodePayload<M: ProtoMessage>(as: M.Type = M.self) throws(WireError) -> M {
        try M(serializedBytes: payload)
    }
}
