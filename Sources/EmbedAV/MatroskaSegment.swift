/// Whether a Matroska/WebM file's Segment fits in the bytes, read by EmbedAV before FFmpeg opens
/// the file: a cut file's Segment (the element holding everything after the EBML header)
/// declares more bytes than follow. A Segment of unknown size (live recorders, browsers'
/// MediaRecorder) cannot be checked; its Duration, when present, still is (`AudioDecoder`).
enum MatroskaSegment {
    /// Throws when the Segment runs past the end; true when its size is known and fits.
    static func checkComplete(_ input: MediaInput) throws(Truncation) -> Bool {
        // The EBML header is a few dozen bytes; one that does not fit in the first 4 KiB is left unchecked.
        let bytes = input.bytes(at: 0, count: 4_096)
        var offset = 0
        /// An EBML variable-length integer: the length is one plus the count of leading zero
        /// bits of the first byte. IDs keep their marker bit; sizes drop it. nil past the end.
        func vint(keepMarker: Bool) -> (value: UInt64, allOnes: Bool)? {
            guard offset < bytes.count, bytes[offset] != 0 else { return nil }
            let length = bytes[offset].leadingZeroBitCount + 1
            guard offset + length <= bytes.count else { return nil }
            var value = UInt64(keepMarker ? bytes[offset] : bytes[offset] & (0xFF >> length))
            for i in 1..<length { value = value << 8 | UInt64(bytes[offset + i]) }
            let allOnes = value == (UInt64(1) << (7 * length)) - 1
            offset += length
            return (value, allOnes)
        }
        guard let header = vint(keepMarker: true), header.value == 0x1A45_DFA3,
              let headerSize = vint(keepMarker: false), headerSize.value <= UInt64(bytes.count - offset) else { return false }
        offset += Int(headerSize.value)
        guard let segment = vint(keepMarker: true), segment.value == 0x1853_8067 else { return false }
        guard let size = vint(keepMarker: false) else {
            guard Int64(bytes.count) == input.size else { return false }  // not a cut: the 4 KiB window ended
            throw Truncation(container: "Matroska", detail: "the data ends inside the Segment header")
        }
        guard !size.allOnes else { return false }  // unknown size
        let remaining = UInt64(input.size - Int64(offset))
        guard size.value <= remaining else {
            throw Truncation(container: "Matroska", detail: "the Segment declares \(size.value) bytes; only \(remaining) follow")
        }
        return true
    }
}
