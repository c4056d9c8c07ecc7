/// Request of method Upsert (id 36); needs write permission.
///
/// Mirrors `message UpsertRequest` in proto/embedd.proto.
public struct UpsertRequest: ProtoMessage {
    /// Field 1 (`collection`).
    public var collection: String = ""
    /// Field 2 (`items`).
    public var items: [UpsertItem] = []
    /// Field 3 (`skip_existing`).
    public var skipExisting: Bool = false
    /// Field 4 (`model`).
    public var model: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(collection: String = "", items: [UpsertItem] = [], skipExisting: Bool = false, model: String = "") {
        self.collection = collection
        self.items = items
        self.skipExisting = skipExisting
        self.model = model
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: collection = try reader.readString(field, type)
        case 2: items.append(try reader.readMessage(field, type, as: UpsertItem.self))
        case 3: skipExisting = try reader.readBool(field, type)
        case 4: model = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, collection)
        for v in items { writer.message(2, v) }
        writer.bool(3, skipExisting)
        writer.string(4, model)
    }
}
