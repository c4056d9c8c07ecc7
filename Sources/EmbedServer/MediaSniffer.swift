/// The media type of bytes sent without one, from their first bytes: what `file(1)` and
/// browsers do, for the formats the plugins decode. The plugin still decides by content; this
/// only lets untyped media reach a model that declares the type.
enum MediaSniffer {
    /// The MIME type the bytes start like, or nil.
    static func mimeType(_ b: [UInt8]) -> String? {
        func starts(_ s: [UInt8], at o: Int = 0) -> Bool { b.count >= o + s.count && Array(b[o..<o + s.count]) == s }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return "image/webp" }
        if starts(Array("RIFF".utf8)) && starts(Array("WAVE".utf8), at: 8) { return "audio/wav" }
        if starts(Array("GIF8".utf8)) { return "image/gif" }
        if starts(Array("fLaC".utf8)) { return "audio/flac" }
        if starts(Array("OggS".utf8)) { return "audio/ogg" }
        if starts(Array("ID3".utf8)) {
            // An ID3v2 tag (10-byte header, syncsafe size) may precede MP3, but also FLAC or
            // ADTS AAC: look past it.
            guard b.count >= 10 else { return "audio/mpeg" }
            let size = (Int(b[6] & 0x7F) << 21) | (Int(b[7] & 0x7F) << 14) | (Int(b[8] & 0x7F) << 7) | Int(b[9] & 0x7F)
            let at = 10 + size + (b[5] & 0x10 != 0 ? 10 : 0)  // a footer doubles the header
            if starts(Array("fLaC".utf8), at: at) { return "audio/flac" }
            if b.count >= at + 2 && b[at] == 0xFF && b[at + 1] & 0xF6 == 0xF0 { return "audio/aac" }  // ADTS sync, layer 0
            return "audio/mpeg"
        }
        // An MPEG audio frame header without an ID3 tag: 11 sync bits, layer III (MP3).
        if b.count >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0 && b[1] & 0x06 == 0x02 { return "audio/mpeg" }
        // ISO media: an audio-only brand is sound (M4A), anything else a video container.
        if starts(Array("ftyp".utf8), at: 4) {
            return starts(Array("M4A ".utf8), at: 8) || starts(Array("M4B ".utf8), at: 8) ? "audio/mp4" : "video/mp4"
        }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) { return "video/webm" }
        return nil
    }
}
