/// Request of method CreateCollection (id 32): bind to `model` (dimension, metric and space come
/// from the loaded model) or give a raw `dimension` (bring-your-own vectors).
///
/// Mirrors `message CreateCollectionRequest` in proto/embedd.proto.
public struct CreateCollectionRequest: ProtoMessage {
    /// Field 1 (`name`).
    public var name: String = ""
    /// Field 2 (`model`).
    public var model: String = ""
    /// Field 3 (`dimension`).
    public var dimension: UInt32 = 0
    /// Field 4 (`metric`).
    public var metric: String = ""
    /// Field 5 (`storage`).
    public var storage: String = ""
    /// Field 6 (`hnsw_m`).
    public var hnswM: UInt32 = 0
    /// Field 7 (`hnsw_ef_construction`).
    public var hnswEfConstruction: UInt32 = 0
    /// Field 8 (`hnsw_ef`).
    public var hnswEf: UInt32 = 0
    /// Field 9 (`acl`).
    public var acl: CollectionAcl? = nil
    /// Field 10 (`exist_ok`).
    public var existOk: Bool = false

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(name: String = "", model: String = "", dimension: UInt32 = 0, metric: String = "", storage: String = "", hnswM: UInt32 = 0, hnswEfConstruction: UInt32 = 0, hnswEf: UInt32 = 0, acl: CollectionAcl? = nil, existOk: Bool = false) {
        self.name = name
        self.model = model
        self.dimension = dimension
        self.metric = metric
        self.storage = storage
        self.hnswM = hnswM
        self.hnswEfConstruction = hnswEfConstruction
        self.hnswEf = hnswEf
        self.acl = acl
        self.existOk = existOk
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: name = try reader.readString(field, type)
        case 2: model = try reader.readString(field, type)
        case 3: dimension = try reader.readUInt32(field, type)
        case 4: metric = try reader.readString(field, type)
        case 5: storage = try reader.readString(field, type)
        case 6: hnswM = try reader.readUInt32(field, type)
        case 7: hnswEfConstruction = try reader.readUInt32(field, type)
        case 8: hnswEf = try reader.readUInt32(field, type)
        case 9: acl = try reader.readMessage(field, type, as: CollectionAcl.self)
        case 10: existOk = try reader.readBool(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, name)
        writer.string(2, model)
        writer.uint(3, UInt64(dimension))
        writer.string(4, metric)
        writer.string(5, storage)
        writer.uint(6, UInt64(hnswM))
        writer.uint(7, UInt64(hnswEfConstruction))
        writer.uint(8, UInt64(hnswEf))
        if let acl { writer.message(9, acl) }
        writer.bool(10, existOk)
    }
}
