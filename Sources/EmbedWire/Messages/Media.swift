/// Encoded media bytes (an image or audio file) with an optional MIME type.
///
/// Mirrors `message Media` in proto/embedd.proto.
public struct Media: ProtoMessage {
    /// Field 1 (`data`).
    public var data: [UInt8] = []
    /// Field 2 (`mime_type`).
    public var mimeType: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(data: [UInt8] = [], mimeType: String = "") {
        self.data = data
        self.mimeType = mimeType
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: data = try reader.readBytes(field, type)
        case 2: mimeType = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.bytes(1, data)
        writer.string(2, mimeType)
    }
}
