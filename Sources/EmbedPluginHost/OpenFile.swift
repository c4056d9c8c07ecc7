import EmbedSys

/// An open, readable file handed to a plugin as an input (ABI 1.1 `EMBEDD_INPUT_FD`): large
/// media — an hour of video — go from the client's descriptor to the decoder without a copy.
///
/// Owns its descriptor and closes it when the last reference goes, so the file stays open for
/// as long as any queued or running call holds the input. Equality is identity: two opens of
/// one file are two inputs.
public final class OpenFile: Sendable, Hashable, CustomStringConvertible {
    /// The descriptor (owned; closed in deinit).
    public let descriptor: FileDescriptor
    /// The file's length in bytes when it was passed.
    public let size: Int64

    /// Takes ownership of `descriptor`.
    public init(owning descriptor: FileDescriptor, size: Int64) {
        self.descriptor = descriptor
        self.size = size
    }

    /// A new owner of a duplicate of `descriptor`, which stays the caller's.
    public convenience init(duplicating descriptor: FileDescriptor, size: Int64) throws(Errno) {
        self.init(owning: try descriptor.duplicate(), size: size)
    }

    deinit { try? descriptor.close() }

    public static func == (a: OpenFile, b: OpenFile) -> Bool { a === b }
    public func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }
    public var description: String { "open file (\(size) bytes)" }
}
