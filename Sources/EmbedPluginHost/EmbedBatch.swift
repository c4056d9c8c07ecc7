import CEmbedABI

/// Per-input outcome codes (`embedd_status`).
public enum EmbedStatusCode: Int32, Sendable {
    case ok = 0, invalidInput = 1, unsupportedInput = 2, tooLarge = 3, cancelled = 4
    case modelError = 5, badOptions = 6, resourceExhausted = 7, internalError = 8

    /// Maps a plugin's raw code; unknown codes become `.internalError`.
    public init(abi: Int32) { self = EmbedStatusCode(rawValue: abi) ?? .internalError }
}

/// Why one input failed (the others in its batch are unaffected).
public struct InputFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: EmbedStatusCode
    public let message: String
    public init(code: EmbedStatusCode, message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { "\(code): \(message)" }
}

/// How much of one text input its vector was computed from (ABI 1.1 `embedd_input_usage`).
/// All zero when the plugin did not count (a 1.0 plugin, or a non-text input).
public struct TokenUsage: Sendable, Hashable {
    /// Tokens the input has, special tokens included, before any cut (0 = not counted).
    public var tokens: Int
    /// Tokens the vector was computed from.
    public var used: Int
    /// Whether the input was cut to the model's window.
    public var truncated: Bool
    /// Windows averaged by a chunk-mean policy (0 otherwise).
    public var chunks: Int

    public init(tokens: Int = 0, used: Int = 0, truncated: Bool = false, chunks: Int = 0) {
        self.tokens = tokens
        self.used = used
        self.truncated = truncated
        self.chunks = chunks
    }

    /// Whether the plugin counted this input.
    public var isCounted: Bool { tokens > 0 }
}

/// One time window of an input with its own vector (ABI 1.1 segments: audio, video).
public struct TimeSegment: Sendable, Hashable {
    /// Where the window starts and ends, in seconds from the input's start.
    public var start: Double
    public var end: Double
    /// `dimension` floats, in the model's space (unit length when the model normalises).
    public var vector: [Float]

    public init(start: Double, end: Double, vector: [Float]) {
        self.start = start
        self.end = end
        self.vector = vector
    }
}

/// The result of one embed call: a row per input, in input order.
public struct EmbedBatch: Sendable {
    public init(dimension: Int, vectors: [Float], failures: [InputFailure?], modelVersion: String, generation: Int,
                embeddingSpace: String = "") {
        self.dimension = dimension
        self.vectors = vectors
        self.failures = failures
        self.modelVersion = modelVersion
        self.generation = generation
        self.embeddingSpace = embeddingSpace
    }

    /// Output dimension.
    public let dimension: Int
    /// `count × dimension` floats, row-major; rows of failed inputs are zero.
    public var vectors: [Float]
    /// Per input: nil when it succeeded, else why it failed.
    public var failures: [InputFailure?]
    /// Per input: token counts from an ABI 1.1 plugin (all zero from a 1.0 plugin).
    public var usage: [TokenUsage] = []
    /// Per input: its segments in time order when the call asked for them (empty otherwise,
    /// for a failed input, and for models that emit none).
    public var segments: [[TimeSegment]] = []
    /// The version of the model that computed this batch (hot swap tests read it).
    public let modelVersion: String
    /// The host's generation number of the model instance that computed this batch.
    public let generation: Int
    /// The embedding space of the model instance that computed this batch: a hot swap may
    /// change it while calls wait, and vectors of different spaces must never be mixed.
    public let embeddingSpace: String
    /// When the plugin call returned, on the host's event clock (`ModelEvent.sequence`): a
    /// model instance's `released` event always comes after every call it served.
    public var completedSequence = 0

    /// Number of inputs.
    public var count: Int { failures.count }

    /// Row `i` as an array.
    public func vector(at i: Int) -> [Float] { Array(vectors[i * dimension ..< (i + 1) * dimension]) }
}

/// A flag the host raises to ask a running embed call to stop. Thread-safe.
///
/// Owns one word of memory the plugin reads through `embedd_embed_request.cancel`; the word
/// lives as long as this object, which outlives every call it is passed to.
public final class CancellationFlag: @unchecked Sendable {
    let word: UnsafeMutablePointer<UInt32>
    /// False for a flag that shares another call's word (`init(sharing:)`).
    private let owned: Bool

    public init() {
        word = .allocate(capacity: 1)
        word.initialize(to: 0)
        owned = true
    }

    /// A flag over the word of a running plugin call (the `cancel` of a request a plugin passes
    /// to `embed_with`): the composed call stops when the outer one is cancelled, and cancelling
    /// it cancels the outer call too. The word must outlive this flag — it does, because the
    /// composed call returns before the outer call can.
    init(sharing word: UnsafePointer<UInt32>) {
        self.word = UnsafeMutablePointer(mutating: word)
        owned = false
    }
    deinit { if owned { word.deallocate() } }

    /// Asks the call(s) using this flag to stop (an atomic store the plugin polls).
    public func cancel() { embedd_cancel_request(word) }

    /// Whether `cancel()` was called.
    public var isCancelled: Bool { embedd_cancel_requested(word) != 0 }
}
