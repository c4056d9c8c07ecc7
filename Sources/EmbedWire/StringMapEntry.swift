/// One entry of a `map<string, string>` field: protobuf encodes maps as repeated messages
/// with the key in field 1 and the value in field 2.
public struct StringMapEntry: ProtoMessage {
    /// Field 1.
    public var key: String = ""
    /// Field 2.
    public var value: String = ""

    /// Creates an empty entry.
    public init() {}

    /// Creates an entry.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: key = try reader.readString(field, type)
        case 2: value = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        // Map entries carry both fields even when empty, as protobuf's C++ and upb encoders do.
        writer.repeatedStringElement(1, key)
        writer.repeatedStringElement(2, value)
    }
}
