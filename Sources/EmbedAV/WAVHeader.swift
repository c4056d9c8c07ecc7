/// The WAV `fmt ` chunk's channel count and sample rate, read by EmbedAV before FFmpeg sees the
/// file: FFmpeg refuses a zero or negative (above 2^31) rate itself, but with a generic "invalid
/// data" that does not say which field is wrong, and opens a zero-channel file. Checking here
/// names the field. Every read is bounds-checked; a chunk list this cannot follow is left to
/// FFmpeg.
enum WAVHeader {
    static func check(_ input: MediaInput) throws(AudioError) {
        func u32(_ at: Int64) -> UInt32? {
            let b = input.bytes(at: at, count: 4)
            guard b.count == 4 else { return nil }
            return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
        }
        func u16(_ at: Int64) -> UInt16? {
            let b = input.bytes(at: at, count: 2)
            guard b.count == 2 else { return nil }
            return UInt16(b[0]) | UInt16(b[1]) << 8
        }
        func tag(_ at: Int64) -> String? {
            let b = input.bytes(at: at, count: 4)
            guard b.count == 4 else { return nil }
            return String(decoding: b, as: UTF8.self)
        }
        guard let riff = tag(0), ["RIFF", "RF64", "BW64"].contains(riff), tag(8) == "WAVE" else { return }
        var offset: Int64 = 12
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
            offset += 8 + Int64(size) + Int64(size & 1)  // chunks are padded to an even size
        }
    }
}
