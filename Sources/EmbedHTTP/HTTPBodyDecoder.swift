/// Reads a message body incrementally: Content-Length, chunked (RFC 9112 §7.1) or until close.
///
/// Feed it buffered input with `decode`; it appends body bytes to `body`, says how many input
/// bytes it used (the rest belong to the next message), and sets `isComplete` once the body
/// ended. Chunk extensions and trailer fields are read and dropped, within bounds.
public struct HTTPBodyDecoder: Sendable {
    public let framing: HTTPBodyFraming
    public let maxBodyBytes: Int
    /// Whether the whole body has been read.
    public private(set) var isComplete: Bool
    private var received = 0
    private var state: ChunkState = .size
    private var chunkSize = 0
    private var sizeDigits = 0
    private var lineBytes = 0
    private var trailerBytes = 0

    /// Longest chunk-size line (size, extensions) and longest trailer section accepted.
    static let maxChunkLineBytes = 4096
    static let maxTrailerBytes = 16 * 1024

    private enum ChunkState: Sendable {
        case size, extensions, sizeLF, data, dataCR, dataLF, trailerStart, trailerLine, trailerLF, finalLF
    }

    public init(framing: HTTPBodyFraming, maxBodyBytes: Int) {
        self.framing = framing
        self.maxBodyBytes = maxBodyBytes
        self.isComplete = framing == .length(0)
    }

    /// Decodes what it can of `input`, appending body bytes to `body`.
    /// - Returns: how many bytes of `input` it consumed (all of them unless the body ended).
    public mutating func decode(_ input: UnsafeRawBufferPointer, into body: inout [UInt8]) throws(HTTPError) -> Int {
        guard !isComplete else { return 0 }
        switch framing {
        case .length(let total):
            let take = min(total - received, input.count)
            body.append(contentsOf: input[0..<take])
            received += take
            isComplete = received == total
            return take
        case .untilClose:
            guard received + input.count <= maxBodyBytes else { throw .bodyTooLarge(limit: maxBodyBytes) }
            body.append(contentsOf: input)
            received += input.count
            return input.count
        case .chunked:
            return try decodeChunked(input, into: &body)
        }
    }

    /// `decode` on an array's bytes.
    public mutating func decode(_ input: [UInt8], into body: inout [UInt8]) throws(HTTPError) -> Int {
        try input.withUnsafeBytes { raw in Result { () throws(HTTPError) in try decode(raw, into: &body) } }.get()
    }

    /// The peer closed the connection: fine for `.untilClose` (the body is complete), a
    /// truncated message otherwise.
    public mutating func finish() throws(HTTPError) {
        if framing == .untilClose { isComplete = true }
        guard isComplete else { throw .truncatedMessage }
    }

    private mutating func decodeChunked(_ input: UnsafeRawBufferPointer, into body: inout [UInt8]) throws(HTTPError) -> Int {
        var i = 0
        let n = input.count
        while i < n && !isComplete {
            let b = input[i]
            switch state {
            case .size:
                if let d = Self.hexValue(b) {
                    sizeDigits += 1
                    guard sizeDigits <= 15 else { throw .malformedChunk("a chunk size with more than 15 hex digits") }
                    chunkSize = chunkSize * 16 + d
                    guard received + chunkSize <= maxBodyBytes else { throw .bodyTooLarge(limit: maxBodyBytes) }
                } else if sizeDigits == 0 {
                    throw .malformedChunk("a chunk-size line starts with \"\(HTTPSyntax.describe(input[i..<min(i + 8, n)]))\", not a hex number")
                } else if b == HTTPSyntax.cr {
                    state = .sizeLF
                } else if b == UInt8(ascii: ";") || b == HTTPSyntax.sp || b == HTTPSyntax.htab {
                    state = .extensions
                } else {
                    throw .malformedChunk("a byte \(b) after the chunk size")
                }
                lineBytes += 1
            case .extensions:
                lineBytes += 1
                guard lineBytes <= Self.maxChunkLineBytes else { throw .malformedChunk("a chunk-size line over \(Self.maxChunkLineBytes) bytes") }
                if b == HTTPSyntax.cr { state = .sizeLF }
                else if b == HTTPSyntax.lf { throw .bareLineFeed }
                else if !HTTPSyntax.isFieldValueByte(b) { throw .malformedChunk("a control byte in a chunk extension") }
            case .sizeLF:
                guard b == HTTPSyntax.lf else { throw .malformedChunk("a CR not followed by LF after the chunk size") }
                lineBytes = 0
                sizeDigits = 0
                state = chunkSize == 0 ? .trailerStart : .data
            case .data:
                let take = min(chunkSize, n - i)
                body.append(contentsOf: input[i..<(i + take)])
                received += take
                chunkSize -= take
                if chunkSize == 0 { state = .dataCR }
                i += take
                continue
            case .dataCR:
                guard b == HTTPSyntax.cr else { throw .malformedChunk("chunk data longer than its size") }
                state = .dataLF
            case .dataLF:
                guard b == HTTPSyntax.lf else { throw .malformedChunk("chunk data not followed by CRLF") }
                state = .size
            case .trailerStart:
                if b == HTTPSyntax.cr { state = .finalLF }
                else if b == HTTPSyntax.lf { throw .bareLineFeed }
                else { state = .trailerLine; trailerBytes += 1 }
            case .trailerLine:
                trailerBytes += 1
                guard trailerBytes <= Self.maxTrailerBytes else { throw .malformedChunk("trailer fields over \(Self.maxTrailerBytes) bytes") }
                if b == HTTPSyntax.cr { state = .trailerLF }
                else if b == HTTPSyntax.lf { throw .bareLineFeed }
                else if !HTTPSyntax.isFieldValueByte(b) { throw .malformedChunk("a control byte in a trailer field") }
            case .trailerLF:
                guard b == HTTPSyntax.lf else { throw .malformedChunk("a CR not followed by LF in the trailer") }
                state = .trailerStart
            case .finalLF:
                guard b == HTTPSyntax.lf else { throw .malformedChunk("the last chunk is not followed by CRLF") }
                isComplete = true
            }
            i += 1
        }
        return i
    }

    @inline(__always) private static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 48...57: Int(b - 48)
        case 65...70: Int(b - 55)
        case 97...102: Int(b - 87)
        default: nil
        }
    }
}
