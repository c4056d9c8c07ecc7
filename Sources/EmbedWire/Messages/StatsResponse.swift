/// Response of method Stats.
///
/// Mirrors `message StatsResponse` in proto/embedd.proto.
public struct StatsResponse: ProtoMessage {
    /// Field 1 (`collections`).
    public var collections: [CollectionInfo] = []

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(collections: [CollectionInfo] = []) {
        self.collections = collections
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: collections.append(try reader.readMessage(field, type, as: CollectionInfo.self))
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        for v in collections { writer.message(1, v) }
    }
}
