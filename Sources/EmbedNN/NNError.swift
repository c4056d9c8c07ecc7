/// An error from loading or running a model, always naming the file (or input) and the problem.
public struct NNError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, in one sentence a user can act on (includes the file path where relevant).
    public let message: String

    /// Creates an error with a complete message.
    public init(_ message: String) { self.message = message }

    /// An error about one file: "`path`: `problem`".
    public static func file(_ path: String, _ problem: String) -> NNError {
        NNError("\(path): \(problem)")
    }

    public var description: String { message }
}
