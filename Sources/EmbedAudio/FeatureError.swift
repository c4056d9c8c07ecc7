/// An error from EmbedAudio: a configuration it cannot read or support, or samples it cannot use.
public struct FeatureError: Error, CustomStringConvertible, Sendable, Equatable {
    /// One sentence a user can act on (about a file, it starts with the file's path).
    public let message: String

    /// An error with a complete message.
    public init(_ message: String) { self.message = message }

    /// An error about one file: "`path`: `problem`".
    public static func file(_ path: String, _ problem: String) -> FeatureError {
        FeatureError("\(path): \(problem)")
    }

    public var description: String { message }
}
