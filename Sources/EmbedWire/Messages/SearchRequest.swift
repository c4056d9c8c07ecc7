/// Request of method Search (id 37); needs read permission. `filter` is a JSON object
/// (see proto/embedd.proto); `k` 0 means 10, `ef` 0 the collection's default.
///
/// Mirrors `message SearchRequest` in proto/embedd.proto.
public struct SearchRequest: ProtoMessage {
    /// Field 1 (`collection`).
    public var collection: String = ""
    /// Field 2 (`queries`).
    public var queries: [SearchQuery] = []
    /// Field 3 (`k`).
    public var k: UInt32 = 0
    /// Field 4 (`ef`).
    public var ef: UInt32 = 0
    /// Field 5 (`filter`).
    public var filter: String = ""
    /// Field 6 (`model`).
    public var model: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(collection: String = "", queries: [SearchQuery] = [], k: UInt32 = 0, ef: UInt32 = 0, filter: String = "", model: String = "") {
        self.collection = collection
        self.queries = queries
        self.k = k
        self.ef = ef
        self.filter = filter
        self.model = model
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: collection = try reader.readString(field, type)
        case 2: queries.append(try reader.readMessage(field, type, as: SearchQuery.self))
        case 3: k = try reader.readUInt32(field, type)
        case 4: ef = try reader.readUInt32(field, type)
        case 5: filter = try reader.readString(field, type)
        case 6: model = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, collection)
        for v in queries { writer.message(2, v) }
        writer.uint(3, UInt64(k))
        writer.uint(4, UInt64(ef))
        writer.string(5, filter)
        writer.string(6, model)
    }
}
