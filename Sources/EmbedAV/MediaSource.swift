/// Where encoded media is read from: bytes in memory, or an open file descriptor.
///
/// A descriptor is read with `pread` only: its file offset is never moved, EmbedAV never closes
/// it, and the file is never copied into memory (an hour of video is gigabytes). `size` is the
/// caller's count of the bytes to read (the file's size from `fstat`); reading stops there, and a
/// file shorter than `size` reads as one cut short. The descriptor must stay open, and the file
/// unchanged, while a decoder reads it.
public enum MediaSource: Sendable {
    case bytes([UInt8])
    case descriptor(fd: Int32, size: Int64)

    /// The number of encoded bytes.
    public var count: Int64 {
        switch self {
        case .bytes(let bytes): Int64(bytes.count)
        case .descriptor(_, let size): size
        }
    }
}
