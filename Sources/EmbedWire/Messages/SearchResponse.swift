/// Response of method Search: `results[i]` answers `queries[i]`.
///
/// Mirrors `message SearchResponse` in proto/embedd.proto.
public struct SearchResponse: ProtoMessage {
    /// Field 1 (`results`).
    public var results: [SearchResult] = []
    /// Field 2 (`metric`).
    public var metric: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(results: [SearchResult] = [], metric: String = "") {
        self.results = results
        self.metric = metric
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: results.append(try reader.readMessage(field, type, as: SearchResult.self))
        case 2: metric = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        for v in results { writer.message(1, v) }
        writer.string(2, metric)
    }
}
