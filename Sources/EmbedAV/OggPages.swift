/// Whether an Ogg file ends where its last logical stream does, checked by EmbedAV before FFmpeg
/// opens the file: libavformat drops a partial last page and stops at the last whole one without
/// a word, so a cut Ogg file would decode as a shorter one. A complete file ends with a whole
/// page carrying the end-of-stream flag (RFC 3533); anything else is a truncated file.
enum OggPages {
    /// The largest page: 27 header bytes, 255 lacing values, 255 segments of 255 bytes.
    static let maxPage = 27 + 255 + 255 * 255

    static func checkComplete(_ input: MediaInput) throws(Truncation) {
        // The last page lies within the last `maxPage` bytes.
        let tailStart = max(0, input.size - Int64(maxPage))
        let bytes = input.bytes(at: tailStart, count: maxPage)
        let count = bytes.count
        // The last page is the one that starts with "OggS" and ends exactly at the end of the
        // data; scanning backwards, a capture pattern that happens to sit inside a payload
        // will not end there.
        var start = count - 27
        while start >= 0 {
            if bytes[start] == 0x4F, bytes[start + 1] == 0x67, bytes[start + 2] == 0x67, bytes[start + 3] == 0x53,
               let end = pageEnd(bytes, start), end == count {
                guard bytes[start + 5] & 0x04 != 0 else {
                    throw Truncation(container: "Ogg", detail: "the last page (at byte \(tailStart + Int64(start))) does not end its stream: the data stops between pages")
                }
                return
            }
            start -= 1
        }
        throw Truncation(container: "Ogg", detail: "the data ends inside a page")
    }

    /// Where the page starting at `start` ends, if its header and lacing values are in the bytes.
    private static func pageEnd(_ bytes: [UInt8], _ start: Int) -> Int? {
        guard start + 27 <= bytes.count else { return nil }
        let segments = Int(bytes[start + 26])
        guard start + 27 + segments <= bytes.count else { return nil }
        var body = 0
        for i in 0..<segments { body += Int(bytes[start + 27 + i]) }
        return start + 27 + segments + body
    }
}
