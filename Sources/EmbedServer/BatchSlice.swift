import EmbedPluginHost

/// One job's share of a coalesced plugin call: its rows, in its own input order.
struct BatchSlice: Sendable {
    let dimension: Int
    /// `count × dimension` floats.
    let vectors: [Float]
    let failures: [InputFailure?]
    /// Token counts per input (all zero when the model counts none).
    let usage: [TokenUsage]
    let modelVersion: String
    let generation: Int
    /// The space of the model instance that computed the rows (see `EmbedBatch`).
    let embeddingSpace: String
    /// Per input: its segments, when the job asked for them (else empty).
    var segments: [[TimeSegment]] = []

    var count: Int { failures.count }

    func vector(at i: Int) -> [Float] { Array(vectors[i * dimension ..< (i + 1) * dimension]) }
}
