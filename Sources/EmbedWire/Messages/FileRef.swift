/// A file passed as an open descriptor with the REQUEST frame (`SCM_RIGHTS`): `index` among
/// the frame's descriptors; `mimeType` "text/..." reads it as text, else as media of that type.
///
/// Mirrors `message FileRef` in proto/embedd.proto.
public struct FileRef: ProtoMessage {
    /// Field 1 (`index`).
    public var index: UInt32 = 0
    /// Field 2 (`mime_type`).
    public var mimeType: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(index: UInt32 = 0, mimeType: String = "") {
        self.index = index
        self.mimeType = mimeType
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: index = try reader.readUInt32(field, type)
        case 2: mimeType = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.uint(1, UInt64(index))
        writer.string(2, mimeType)
    }
}
