/// One stored item: an external key, its vector, optional metadata and an optional document
/// (each a JSON object).
public struct Record: Sendable, Equatable {
    /// The caller's key (1…1024 bytes of UTF-8). Upserting an existing key replaces it.
    public var key: String
    /// The vector; its length must equal the collection's dimension, all values finite.
    public var vector: [Float]
    /// A JSON object as text (e.g. `{"lang":"en"}`), or nil. Kept byte for byte as given.
    public var metadata: String?
    /// What the vector was made from, as a JSON object (the daemon writes e.g.
    /// `{"text": "…"}` or `{"name": "cat.jpg", "mime_type": "image/jpeg"}`), or nil. Kept byte
    /// for byte as given; filters do not look at it.
    public var document: String?

    public init(key: String, vector: [Float], metadata: String? = nil, document: String? = nil) {
        self.key = key
        self.vector = vector
        self.metadata = metadata
        self.document = document
    }
}

/// One search result.
public struct SearchHit: Sendable, Equatable {
    /// The record's key.
    public var key: String
    /// The metric's natural score (see `Metric`): cosine similarity, Euclidean distance or dot product.
    public var score: Float
    /// The record's metadata, byte for byte as stored, or nil.
    public var metadata: String?
    /// The record's document, byte for byte as stored, or nil.
    public var document: String?

    public init(key: String, score: Float, metadata: String?, document: String? = nil) {
        self.key = key
        self.score = score
        self.metadata = metadata
        self.document = document
    }
}
