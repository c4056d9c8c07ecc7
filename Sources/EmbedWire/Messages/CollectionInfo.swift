/// One collection: binding, configuration, ACL and the caller's permissions.
///
/// Mirrors `message CollectionInfo` in proto/embedd.proto.
public struct CollectionInfo: ProtoMessage {
    /// Field 1 (`name`).
    public var name: String = ""
    /// Field 2 (`model`).
    public var model: String = ""
    /// Field 3 (`embedding_space`).
    public var embeddingSpace: String = ""
    /// Field 4 (`dimension`).
    public var dimension: UInt32 = 0
    /// Field 5 (`metric`).
    public var metric: String = ""
    /// Field 6 (`storage`).
    public var storage: String = ""
    /// Field 7 (`count`).
    public var count: UInt64 = 0
    /// Field 8 (`acl`).
    public var acl: CollectionAcl? = nil
    /// Field 9 (`created_unix_ms`).
    public var createdUnixMs: UInt64 = 0
    /// Field 10 (`hnsw_m`).
    public var hnswM: UInt32 = 0
    /// Field 11 (`hnsw_ef_construction`).
    public var hnswEfConstruction: UInt32 = 0
    /// Field 12 (`hnsw_ef`).
    public var hnswEf: UInt32 = 0
    /// Field 13 (`stats`).
    public var stats: CollectionStats? = nil
    /// Field 14 (`can_read`).
    public var canRead: Bool = false
    /// Field 15 (`can_write`).
    public var canWrite: Bool = false
    /// Field 16 (`error`).
    public var error: String = ""

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(name: String = "", model: String = "", embeddingSpace: String = "", dimension: UInt32 = 0, metric: String = "", storage: String = "", count: UInt64 = 0, acl: CollectionAcl? = nil, createdUnixMs: UInt64 = 0, hnswM: UInt32 = 0, hnswEfConstruction: UInt32 = 0, hnswEf: UInt32 = 0, stats: CollectionStats? = nil, canRead: Bool = false, canWrite: Bool = false, error: String = "") {
        self.name = name
        self.model = model
        self.embeddingSpace = embeddingSpace
        self.dimension = dimension
        self.metric = metric
        self.storage = storage
        self.count = count
        self.acl = acl
        self.createdUnixMs = createdUnixMs
        self.hnswM = hnswM
        self.hnswEfConstruction = hnswEfConstruction
        self.hnswEf = hnswEf
        self.stats = stats
        self.canRead = canRead
        self.canWrite = canWrite
        self.error = error
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: name = try reader.readString(field, type)
        case 2: model = try reader.readString(field, type)
        case 3: embeddingSpace = try reader.readString(field, type)
        case 4: dimension = try reader.readUInt32(field, type)
        case 5: metric = try reader.readString(field, type)
        case 6: storage = try reader.readString(field, type)
        case 7: count = try reader.readUInt64(field, type)
        case 8: acl = try reader.readMessage(field, type, as: CollectionAcl.self)
        case 9: createdUnixMs = try reader.readUInt64(field, type)
        case 10: hnswM = try reader.readUInt32(field, type)
        case 11: hnswEfConstruction = try reader.readUInt32(field, type)
        case 12: hnswEf = try reader.readUInt32(field, type)
        case 13: stats = try reader.readMessage(field, type, as: CollectionStats.self)
        case 14: canRead = try reader.readBool(field, type)
        case 15: canWrite = try reader.readBool(field, type)
        case 16: error = try reader.readString(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, name)
        writer.string(2, model)
        writer.string(3, embeddingSpace)
        writer.uint(4, UInt64(dimension))
        writer.string(5, metric)
        writer.string(6, storage)
        writer.uint(7, count)
        if let acl { writer.message(8, acl) }
        writer.uint(9, createdUnixMs)
        writer.uint(10, UInt64(hnswM))
        writer.uint(11, UInt64(hnswEfConstruction))
        writer.uint(12, UInt64(hnswEf))
        if let stats { writer.message(13, stats) }
        writer.bool(14, canRead)
        writer.bool(15, canWrite)
        writer.string(16, error)
    }
}
