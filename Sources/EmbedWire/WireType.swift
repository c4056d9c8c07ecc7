/// Protobuf wire types (the low three bits of a field tag).
public enum WireType: Int, Sendable, CustomStringConvertible {
    /// int32, int64, uint32, uint64, sint32, sint64, bool, enum.
    case varint = 0
    /// fixed64, sfixed64, double.
    case fixed64 = 1
    /// string, bytes, embedded messages, packed repeated fields.
    case lengthDelimited = 2
    /// fixed32, sfixed32, float.
    case fixed32 = 5

    public var description: String {
        switch self {
        case .varint: return "VARINT"
        case .fixed64: return "I64"
        case .lengthDelimited: return "LEN"
        case .fixed32: return "I32"
        }
    }
}
