/// A token the tokenizer matches literally before normal tokenisation ("[CLS]", "<mask>"),
/// as listed in tokenizer.json's `added_tokens`.
public struct AddedToken: Sendable, Equatable {
    /// The literal text.
    public let content: [Unicode.Scalar]
    /// Its id.
    public let id: Int32
    /// Matched against normalised text (true) or the raw input (false).
    public let normalized: Bool
    /// Whitespace on its left is absorbed into the match.
    public let lstrip: Bool
    /// Whitespace on its right is absorbed into the match.
    public let rstrip: Bool
}
