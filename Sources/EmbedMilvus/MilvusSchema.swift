/// What the writer needs to know about a Milvus collection: how embedd's key is stored.
public struct MilvusSchema: Sendable, Equatable {
    /// How a record's primary key is formed.
    public enum PrimaryKey: Sendable, Equatable {
        /// Int64 chosen by Milvus (REST v1's create): the key lives in the dynamic field `key`,
        /// replacement and deletion go by `key in [...]`.
        case autoID(field: String)
        /// Int64 supplied by us: `MilvusKeyHash.id(key)`; the key also lives in `key`.
        case hashed(field: String)
        /// VarChar primary key `key`: embedd's key itself (REST v2's create).
        case key
    }

    public var primaryKey: PrimaryKey
    public var dimension: Int
    /// The vector index's `metricType` (nil when the collection has no index yet).
    public var metric: String?
    public var dynamicFields: Bool

    public init(primaryKey: PrimaryKey, dimension: Int, metric: String?, dynamicFields: Bool) {
        self.primaryKey = primaryKey
        self.dimension = dimension
        self.metric = metric
        self.dynamicFields = dynamicFields
    }

    /// A Milvus boolean expression selecting the entities of `keys`.
    public func selector(keys: some Collection<String>) -> String {
        switch primaryKey {
        case .hashed(let field):
            return field + " in [" + keys.map { String(MilvusKeyHash.id($0)) }.joined(separator: ",") + "]"
        case .autoID, .key:
            // JSON string escapes are a subset of Milvus's expression string literals.
            return "key in [" + keys.map(MilvusWire.quoted).joined(separator: ",") + "]"
        }
    }

    /// A Milvus boolean expression that every entity the exporter writes satisfies (for counts).
    public var everything: String {
        switch primaryKey {
        case .autoID(let field), .hashed(let field): return field + " >= 0"
        case .key: return "key != \"\""
        }
    }
}
