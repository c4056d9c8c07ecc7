/// Decoded 8-bit RGB pixels, row-major, `width * height * 3` bytes.
///
/// Mirrors `message Pixels` in proto/embedd.proto.
public struct Pixels: ProtoMessage {
    /// Field 1 (`rgb8`).
    public var rgb8: [UInt8] = []
    /// Field 2 (`width`).
    public var width: UInt32 = 0
    /// Field 3 (`height`).
    public var height: UInt32 = 0

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(rgb8: [UInt8] = [], width: UInt32 = 0, height: UInt32 = 0) {
        self.rgb8 = rgb8
        self.width = width
        self.height = height
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: rgb8 = try reader.readBytes(field, type)
        case 2: width = try reader.readUInt32(field, type)
        case 3: height = try reader.readUInt32(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.bytes(1, rgb8)
        writer.uint(2, UInt64(width))
        writer.uint(3, UInt64(height))
    }
}
