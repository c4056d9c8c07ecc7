/// An error from reading a pre-processing configuration, naming the file and the problem.
public struct VisionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// One sentence a user can act on, starting with the file's path.
    public let message: String

    /// An error with a complete message.
    public init(_ message: String) { self.message = message }

    /// An error about one file: "`path`: `problem`".
    public static func file(_ path: String, _ problem: String) -> VisionError {
        VisionError("\(path): \(problem)")
    }

    public var description: String { message }
}
