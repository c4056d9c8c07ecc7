import CEmbedABI

/// A model's description in Swift terms; the kit turns it into the `embedd_model_info` (and
/// the C strings it points to) that `describe_model` returns until `release_model`.
package struct ModelDescription {
    package var name: String
    package var version: String
    /// `family/model@hash`; models whose vectors are comparable report the same space.
    package var embeddingSpace: String
    /// `embedd_modality` bit set.
    package var modalities: UInt32
    /// Bit set of `1 << embedd_input_kind`.
    package var inputKinds: UInt32
    package var mimeTypes: [String] = []
    package var dim: Int
    package var metric: embedd_metric
    package var normalized: Bool
    package var maxTokens: Int = 0
    package var maxPixels: Int = 0
    package var maxSeconds: Double = 0
    package var maxInputBytes: Int
    package var preferredBatch: Int
    package var maxBatch: Int
    package var concurrent = false
    package var batchTolerance: Float = 0
    /// ABI 1.1: window length of the segments the model emits on request (0 = none).
    package var segmentSeconds: Double = 0

    package init(name: String, version: String, embeddingSpace: String, modalities: UInt32, inputKinds: UInt32,
                 dim: Int, metric: embedd_metric, normalized: Bool, maxInputBytes: Int,
                 preferredBatch: Int, maxBatch: Int) {
        self.name = name
        self.version = version
        self.embeddingSpace = embeddingSpace
        self.modalities = modalities
        self.inputKinds = inputKinds
        self.dim = dim
        self.metric = metric
        self.normalized = normalized
        self.maxInputBytes = maxInputBytes
        self.preferredBatch = preferredBatch
        self.maxBatch = maxBatch
    }
}
