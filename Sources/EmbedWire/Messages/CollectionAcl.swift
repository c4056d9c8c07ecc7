/// Who may use a collection: the owner, uid 0 and the admin group always may; writers may also read.
/// `restrictRead == false` (the default) lets anyone who can connect read.
///
/// Mirrors `message CollectionAcl` in proto/embedd.proto.
public struct CollectionAcl: ProtoMessage {
    /// Field 1 (`owner_uid`).
    public var ownerUid: UInt32 = 0
    /// Field 2 (`reader_uids`).
    public var readerUids: [UInt32] = []
    /// Field 3 (`reader_gids`).
    public var readerGids: [UInt32] = []
    /// Field 4 (`writer_uids`).
    public var writerUids: [UInt32] = []
    /// Field 5 (`writer_gids`).
    public var writerGids: [UInt32] = []
    /// Field 6 (`restrict_read`).
    public var restrictRead: Bool = false

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(ownerUid: UInt32 = 0, readerUids: [UInt32] = [], readerGids: [UInt32] = [], writerUids: [UInt32] = [], writerGids: [UInt32] = [], restrictRead: Bool = false) {
        self.ownerUid = ownerUid
        self.readerUids = readerUids
        self.readerGids = readerGids
        self.writerUids = writerUids
        self.writerGids = writerGids
        self.restrictRead = restrictRead
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: ownerUid = try reader.readUInt32(field, type)
        case 2: try reader.readUInt32s(field, type, into: &readerUids)
        case 3: try reader.readUInt32s(field, type, into: &readerGids)
        case 4: try reader.readUInt32s(field, type, into: &writerUids)
        case 5: try reader.readUInt32s(field, type, into: &writerGids)
        case 6: restrictRead = try reader.readBool(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.uint(1, UInt64(ownerUid))
        writer.packedUInt32s(2, readerUids)
        writer.packedUInt32s(3, readerGids)
        writer.packedUInt32s(4, writerUids)
        writer.packedUInt32s(5, writerGids)
        writer.bool(6, restrictRead)
    }
}
