/// The hits of one query, best first.
///
/// Mirrors `message SearchResult` in proto/embedd.proto.
public struct SearchResult: ProtoMessage {
    /// Field 1 (`hits`).
    public var hits: [SearchHit] = []

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(hits: [SearchHit] = []) {
        self.hits = hits
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: hits.append(try reader.readMessage(field, type, as: SearchHit.self))
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        for v in hits { writer.message(1, v) }
    }
}
