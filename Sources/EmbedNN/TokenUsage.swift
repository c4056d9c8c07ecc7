/// How much of one text a vector was computed from: what honest truncation reports.
public struct TokenUsage: Sendable, Equatable {
    /// Tokens the text has, special tokens included, before any cut.
    public var tokens: Int
    /// Tokens the vector was computed from (`tokens` unless the text was cut).
    public var used: Int
    /// Windows averaged under `LongInputPolicy.chunkMean` (0 otherwise).
    public var chunks: Int

    public init(tokens: Int, used: Int, chunks: Int = 0) {
        self.tokens = tokens
        self.used = used
        self.chunks = chunks
    }

    /// Whether the text was cut to the model's window.
    public var truncated: Bool { used < tokens }
}
