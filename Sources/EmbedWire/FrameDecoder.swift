/// Splits a byte stream into frames. Pure: no I/O, no state beyond the limit.
///
/// Feed it the bytes received so far; it returns one frame and how many bytes it used, or
/// nil when the buffer does not yet hold a whole frame. A header that can never become valid
/// (unknown kind, payload over the limit) throws at once, before the payload arrives, so a
/// peer cannot make the reader buffer an oversized frame.
public struct FrameDecoder: Sendable {
    /// Largest payload accepted, in bytes.
    public var maxPayloadBytes: Int

    /// Creates a decoder with a payload limit.
    public init(maxPayloadBytes: Int) {
        self.maxPayloadBytes = maxPayloadBytes
    }

    /// The payload length declared by the header at `buffer[offset]`, or nil while fewer than
    /// `Frame.headerSize` bytes are there. Checks nothing else (`decode` does).
    public static func declaredLength(_ buffer: [UInt8], from offset: Int = 0) -> Int? {
        guard buffer.count - offset >= Frame.headerSize else { return nil }
        return Int(UInt32(buffer[offset]) << 24 | UInt32(buffer[offset + 1]) << 16 | UInt32(buffer[offset + 2]) << 8 | UInt32(buffer[offset + 3]))
    }

    /// Decodes the frame that starts at `buffer[offset]`.
    /// - Returns: the frame and the number of bytes it occupies, or nil if more bytes are needed.
    public func decode(_ buffer: [UInt8], from offset: Int = 0) throws(WireError) -> (frame: Frame, consumed: Int)? {
        let available = buffer.count - offset
        guard available >= Frame.headerSize else { return nil }
        func u32(_ at: Int) -> UInt32 {
            UInt32(buffer[offset + at]) << 24 | UInt32(buffer[offset + at + 1]) << 16
                | UInt32(buffer[offset + at + 2]) << 8 | UInt32(buffer[offset + at + 3])
        }
        let length = Int(u32(0))
        guard let kind = FrameKind(rawValue: buffer[offset + 4]) else {
            throw .unknownFrameKind(buffer[offset + 4])
        }
        guard length <= maxPayloadBytes else { throw .frameTooLarge(length: length, limit: maxPayloadBytes) }
        guard available >= Frame.headerSize + length else { return nil }
        let method = MethodID(rawValue: UInt16(buffer[offset + 6]) << 8 | UInt16(buffer[offset + 7]))
        let start = offset + Frame.headerSize
        let frame = Frame(kind: kind, flags: buffer[offset + 5], method: method, callID: u32(8), word: u32(12),
                          payload: Array(buffer[start..<(start + length)]))
        return (frame, Frame.headerSize + length)
    }
}
