/// Everything fixed when a collection is created.
public struct CollectionConfig: Sendable, Equatable {
    /// Number of components per vector (1…65536).
    public var dimension: Int
    /// How vectors are compared.
    public var metric: Metric
    /// The embedding space the vectors come from (e.g. "sentence-transformers@fnv64:dc3a7a2924dbd9b0"),
    /// or nil for bring-your-own vectors. The daemon refuses to mix spaces.
    public var spaceID: String?
    /// How stored vectors are kept: f32 (exact), f16 (half the bytes, relative error ≤ 2⁻¹¹
    /// per component above 2⁻¹⁴, absolute ≤ 2⁻²⁵ below) or int8 (only the 8-bit search codes: a quarter of the bytes, the vector
    /// known to ±scale/2 per component). Searches walk the 8-bit codes in every case; the final
    /// ranking and `get` use the stored vector.
    public var storage: StorageType
    /// HNSW graph parameters.
    public var hnsw: HNSWParameters

    public init(dimension: Int, metric: Metric = .cosine, spaceID: String? = nil,
                storage: StorageType = .f32, hnsw: HNSWParameters = HNSWParameters()) {
        self.dimension = dimension
        self.metric = metric
        self.spaceID = spaceID
        self.storage = storage
        self.hnsw = hnsw
    }

    /// Throws `StoreError.invalidArgument` naming the first bad field.
    func validate() throws(StoreError) {
        guard (1...65536).contains(dimension) else {
            throw .invalidArgument("dimension must be 1…65536, got \(dimension)")
        }
        if let spaceID, spaceID.utf8.count > 255 || spaceID.isEmpty {
            throw .invalidArgument("space id must be 1…255 bytes")
        }
        try hnsw.validate()
    }
}

/// HNSW parameters (Malkov & Yashunin): `m` links per node on upper layers and `2·m` on the
/// bottom layer, `efConstruction` candidates while inserting, `ef` default search breadth.
public struct HNSWParameters: Sendable, Equatable {
    /// Links per node on upper layers (2…128; 16 is the usual choice).
    public var m: Int
    /// Breadth of the candidate search when inserting (≥ m).
    public var efConstruction: Int
    /// Default breadth of a search (a query's `ef` overrides it; at least `k` is used).
    public var ef: Int

    public init(m: Int = 16, efConstruction: Int = 200, ef: Int = 100) {
        self.m = m
        self.efConstruction = efConstruction
        self.ef = ef
    }

    /// Links per node on layer 0 (`Mmax0 = 2·M`).
    var maxLinks0: Int { 2 * m }

    func validate() throws(StoreError) {
        guard (2...128).contains(m) else { throw .invalidArgument("hnsw m must be 2…128, got \(m)") }
        guard (1...100_000).contains(efConstruction), efConstruction >= m else {
            throw .invalidArgument("hnsw efConstruction must be ≥ m and ≤ 100000, got \(efConstruction)")
        }
        guard (1...100_000).contains(ef) else { throw .invalidArgument("hnsw ef must be 1…100000, got \(ef)") }
    }
}
