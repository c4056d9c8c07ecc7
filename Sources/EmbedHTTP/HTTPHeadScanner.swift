/// Finds where a message head ends in bytes that arrive piece by piece.
///
/// Feed it the whole buffered input each time more arrives; it remembers how far it has looked,
/// so a client that sends one byte at a time costs linear work, not quadratic. It skips the empty
/// lines RFC 9112 §2.2 lets a peer send before a request line (a stray CRLF after a body), refuses
/// a bare LF at once, and gives up past `maxHeadBytes`.
public struct HTTPHeadScanner: Sendable {
    /// Longest head accepted, in bytes (leading empty lines count too).
    public let maxHeadBytes: Int
    private var position = 0
    private var start = 0
    private var found: Range<Int>?

    public init(maxHeadBytes: Int) { self.maxHeadBytes = maxHeadBytes }

    /// Forgets the previous head; call it before scanning the next message.
    public mutating func reset() { position = 0; start = 0; found = nil }

    /// Looks for the end of the head in `buffer` (which must begin with the same bytes as the
    /// previous call's since `reset`).
    /// - Returns: the head's byte range (start line through the blank line's CRLF), or nil
    ///   when more bytes are needed. Once found, later calls return the same range until `reset`.
    public mutating func scan(_ buffer: UnsafeRawBufferPointer) throws(HTTPError) -> Range<Int>? {
        // Once found, the same head until `reset` (more bytes after it belong to the body).
        if let found { return found }
        var i = position
        let n = buffer.count
        while i < n {
            let b = buffer[i]
            if i == start, b == HTTPSyntax.cr || b == HTTPSyntax.lf {
                // An empty line before the start line.
                guard b == HTTPSyntax.cr else { throw .bareLineFeed }
                guard i + 1 < n else { break }
                guard buffer[i + 1] == HTTPSyntax.lf else { throw .malformedStartLine("a CR not followed by LF") }
                i += 2
                start = i
                guard start <= maxHeadBytes else { throw .headTooLarge(limit: maxHeadBytes) }
                continue
            }
            if i + 1 > maxHeadBytes { throw .headTooLarge(limit: maxHeadBytes) }
            if b == HTTPSyntax.lf {
                guard buffer[i - 1] == HTTPSyntax.cr else { throw .bareLineFeed }
                if i - start >= 3 && buffer[i - 2] == HTTPSyntax.lf {
                    position = i + 1
                    found = start..<(i + 1)
                    return found
                }
            }
            i += 1
        }
        position = i
        return nil
    }
}
