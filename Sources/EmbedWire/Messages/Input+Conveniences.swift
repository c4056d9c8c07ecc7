// Hand-written conveniences of the generated `Input` (Messages.generated.swift).

extension Input {
    /// Creates an input with `kind` set.
    public init(_ kind: Kind) { self.init(kind: kind) }

    /// A text input.
    public static func text(_ s: String) -> Input { Input(.text(s)) }
}
