/// Which Milvus REST API a client speaks.
public enum MilvusAPI: String, Sendable, Equatable, CaseIterable {
    /// `/v1/vector/...` (Milvus 2.3; also served by 2.4).
    case v1
    /// `/v2/vectordb/...` (Milvus ≥ 2.4).
    case v2
}

/// Which API to use: one forced, or detected from the server (v2 where it answers).
public enum MilvusAPIChoice: String, Sendable, Equatable, CaseIterable {
    case auto, v1, v2
}
