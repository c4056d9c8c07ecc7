/// Response of method Get.
///
/// Mirrors `message GetResponse` in proto/embedd.proto.
public struct GetResponse: ProtoMessage {
    /// Field 1 (`key`).
    public var key: String = ""
    /// Field 2 (`vector`).
    public var vector: Vector? = nil
    /// Field 3 (`metadata`).
    public var metadata: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(key: String = "", vector: Vector? = nil, metadata: String = "") {
        self.key = key
        self.vector = vector
        self.metadata = metadata
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: key = try reader.readString(field, type)
        case 2: vector = try reader.readMessage(field, type, as: Vector.self)
        case 3: metadata = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, key)
        if let vector { writer.message(2, vector) }
        writer.string(3, metadata)
    }
}
