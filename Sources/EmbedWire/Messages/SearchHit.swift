/// One search result: key, score in the metric's natural form, metadata.
///
/// Mirrors `message SearchHit` in proto/embedd.proto.
public struct SearchHit: ProtoMessage {
    /// Field 1 (`key`).
    public var key: String = ""
    /// Field 2 (`score`).
    public var score: Float = 0
    /// Field 3 (`metadata`).
    public var metadata: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(key: String = "", score: Float = 0, metadata: String = "") {
        self.key = key
        self.score = score
        self.metadata = metadata
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: key = try reader.readString(field, type)
        case 2: score = try reader.readFloat(field, type)
        case 3: metadata = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, key)
        writer.float(2, score)
        writer.string(3, metadata)
    }
}
