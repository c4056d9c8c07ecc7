/// Whether an MP4/MOV file's top-level boxes fit in the bytes, read by EmbedAV before FFmpeg
/// opens the file: a cut download leaves a box (usually `mdat`, the media data, or `moov`, the
/// index at the end) running past the end, which libavformat reports only as "moov atom not
/// found" or as short packets. Naming the box makes it a truncated file, not a corrupt one.
enum MP4Boxes {
    /// Throws when a box runs past the end; true when every box was walked to the end.
    static func checkComplete(_ bytes: UnsafeRawBufferPointer) throws(AudioError) -> Bool {
        func u32(_ at: Int) -> UInt64 {
            UInt64(bytes[at]) << 24 | UInt64(bytes[at + 1]) << 16 | UInt64(bytes[at + 2]) << 8 | UInt64(bytes[at + 3])
        }
        func tag(_ at: Int) -> String {
            let raw = (at..<(at + 4)).map { bytes[$0] }
            return raw.allSatisfy({ (0x20..<0x7F).contains($0) }) ? String(decoding: raw, as: UTF8.self) : "?"
        }
        var offset = 0
        while offset < bytes.count {
            guard offset + 8 <= bytes.count else {
                throw .truncated(container: "MP4", detail: "the data ends inside a box header at byte \(offset)")
            }
            var size = u32(offset)
            let type = tag(offset + 4)
            if size == 1 {  // a 64-bit size follows the type
                guard offset + 16 <= bytes.count else {
                    throw .truncated(container: "MP4", detail: "the data ends inside the '\(type)' box header at byte \(offset)")
                }
                size = u32(offset + 8) << 32 | u32(offset + 12)
            } else if size == 0 {  // "extends to the end of the file"
                return true
            }
            guard size >= 8 else { return false }  // malformed: left to FFmpeg, which says how
            let remaining = UInt64(bytes.count - offset)
            guard size <= remaining else {
                throw .truncated(container: "MP4", detail: "the '\(type)' box at byte \(offset) declares \(size) bytes; only \(remaining) follow")
            }
            offset += Int(size)
        }
        return true
    }
}
