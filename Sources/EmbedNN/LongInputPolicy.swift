/// What to do with a text longer than the model's `max_seq_length` tokens.
public enum LongInputPolicy: String, Sendable {
    /// Keep the first `max_seq_length − 2` tokens (sentence-transformers' behaviour; default).
    case truncate
    /// Split the tokens into windows of `max_seq_length − 2`, embed each, and return the mean of
    /// the window vectors (normalised again if the model normalises).
    case chunkMean = "chunk_mean"
    /// Fail that input with an error saying how many tokens it has.
    case reject
}
