/// Why bytes could not be decoded as a frame or a message.
///
/// Every case carries enough context to be shown to a user as is (`description`).
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The buffer ended inside a field or a header.
    case truncated(String)
    /// A varint ran longer than 10 bytes or overflowed 64 bits.
    case malformedVarint
    /// A tag carried wire type 3, 4, 6 or 7 (groups are not used by this protocol).
    case unsupportedWireType(field: Int, rawType: Int)
    /// Field number 0 or above 2^29 - 1.
    case invalidFieldNumber(Int)
    /// A known field arrived with the wrong wire type.
    case wrongWireType(message: String, field: Int, got: WireType, expected: WireType)
    /// A string field was not valid UTF-8.
    case invalidUTF8(message: String, field: Int)
    /// A frame header declared a payload bigger than the negotiated maximum.
    case frameTooLarge(length: Int, limit: Int)
    /// A frame header carried an unknown frame kind.
    case unknownFrameKind(UInt8)
    /// A value is outside what the field allows.
    case invalidValue(String)

    public var description: String {
        switch self {
        case .truncated(let what): return "truncated \(what)"
        case .malformedVarint: return "malformed varint (longer than 10 bytes)"
        case .unsupportedWireType(let field, let raw): return "field \(field) uses unsupported wire type \(raw)"
        case .invalidFieldNumber(let n): return "invalid field number \(n)"
        case .wrongWireType(let m, let f, let got, let expected):
            return "\(m) field \(f) has wire type \(got), expected \(expected)"
        case .invalidUTF8(let m, let f): return "\(m) field \(f) is not valid UTF-8"
        case .frameTooLarge(let length, let limit): return "frame payload of \(length) bytes exceeds the limit of \(limit) bytes"
        case .unknownFrameKind(let k): return "unknown frame kind \(k)"
        case .invalidValue(let s): return s
        }
    }
}
