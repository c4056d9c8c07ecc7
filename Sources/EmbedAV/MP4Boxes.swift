/// Whether an MP4/MOV file's top-level boxes fit in the bytes, read by EmbedAV before FFmpeg
/// opens the file: a cut download leaves a box (usually `mdat`, the media data, or `moov`, the
/// index at the end) running past the end, which libavformat reports only as "moov atom not
/// found" or as short packets. Naming the box makes it a truncated file, not a corrupt one.
enum MP4Boxes {
    /// Top-level boxes walked at most: a fragmented MP4 has two per fragment (an hour in 1-s
    /// fragments: 7,200), and a hostile file of empty boxes must not cost a read per 8 bytes.
    static let maxBoxes = 100_000

    /// Throws when a box runs past the end; true when every box was walked to the end.
    static func checkComplete(_ input: MediaInput) throws(Truncation) -> Bool {
        func u32(_ b: [UInt8], _ at: Int) -> UInt64 {
            UInt64(b[at]) << 24 | UInt64(b[at + 1]) << 16 | UInt64(b[at + 2]) << 8 | UInt64(b[at + 3])
        }
        func tag(_ b: [UInt8]) -> String {
            let raw = b[4..<8]
            return raw.allSatisfy({ (0x20..<0x7F).contains($0) }) ? String(decoding: raw, as: UTF8.self) : "?"
        }
        var offset: Int64 = 0
        for _ in 0..<maxBoxes {
            guard offset < input.size else { return true }
            let header = input.bytes(at: offset, count: 16)
            guard header.count >= 8 else {
                if offset + 8 > input.size {
                    throw Truncation(container: "MP4", detail: "the data ends inside a box header at byte \(offset)")
                }
                return false  // the descriptor could not be read: left to FFmpeg, which says how
            }
            var size = u32(header, 0)
            let type = tag(header)
            if size == 1 {  // a 64-bit size follows the type
                guard header.count >= 16 else {
                    throw Truncation(container: "MP4", detail: "the data ends inside the '\(type)' box header at byte \(offset)")
                }
                size = u32(header, 8) << 32 | u32(header, 12)
            } else if size == 0 {  // "extends to the end of the file"
                return true
            }
            guard size >= 8 else { return false }  // malformed: left to FFmpeg, which says how
            let remaining = UInt64(input.size - offset)
            guard size <= remaining else {
                throw Truncation(container: "MP4", detail: "the '\(type)' box at byte \(offset) declares \(size) bytes; only \(remaining) follow")
            }
            offset += Int64(size)
        }
        return false
    }
}
