/// The WAV `fmt ` chunk's channel count and sample rate, read by EmbedAV before FFmpeg sees the
/// file: FFmpeg refuses a zero or negative (above 2^31) rate itself, but with a generic "invalid
/// data" that does not say which field is wrong, and opens a zero-channel file. Checking here
/// names the field. Every read is bounds-checked; a chunk list this cannot follow is left to
/// FFmpeg.
enum WAVHeader {
    static func check(_ bytes: UnsafeRawBufferPointer) throws(AudioError) {
        func u32(_ at: Int) -> UInt32? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        func u16(_ at: Int) -> UInt16? {
            guard at >= 0, at + 2 <= bytes.count else { return nil }
            return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
        }
        func tag(_ at: Int) -> String? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + 4)]), as: UTF8.self)
        }
        guard let riff = tag(0), ["RIFF", "RF64", "BW64"].contains(riff), tag(8) == "WAVE" else { return }
        var offset = 12
        for _ in 0..<64 {  // fmt comes first in practice; a few chunks (JUNK, bext, LIST) may precede it
            guard let id = tag(offset), let size = u32(offset + 4) else { return }
            if id == "data" { return }
            if id == "fmt " {
                guard size >= 16, let channels = u16(offset + 10), let rate = u32(offset + 12) else { return }
                guard AudioLimits.channelCounts.contains(Int(channels)) else {
                    throw .badChannelCount(container: "WAV", count: Int(channels))
                }
                guard AudioLimits.sampleRates.contains(Int(rate)) else {
                    throw .badSampleRate(container: "WAV", rate: Int(rate))
                }
                return
            }
            offset += 8 + Int(size) + Int(size & 1)  // chunks are padded to an even size
        }
    }
}
