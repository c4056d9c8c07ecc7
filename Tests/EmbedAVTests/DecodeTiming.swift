import EmbedAV
import EmbedSys
import Testing

/// Decode + down-mix + resampling time of 30 s of speech per format (not a timed test: it
/// asserts nothing and runs only with EMBEDD_AV_TIMING=1). bench/audio times it against
/// librosa and FFmpeg.
struct DecodeTiming {
    @Test(.enabled(if: AudioFixtures.available && Environment.get("EMBEDD_AV_TIMING") == "1"))
    func thirtySeconds() throws {
        let dir = AudioFixtures.dir
        let variants: [(String, [String])] = [
            ("16k.s16.wav", ["-c:a", "pcm_s16le"]), ("44k-stereo.s16.wav", ["-ar", "44100", "-ac", "2", "-c:a", "pcm_s16le"]),
            ("16k.flac", ["-c:a", "flac"]), ("44k-stereo.flac", ["-ar", "44100", "-ac", "2", "-c:a", "flac"]),
            ("16k.ogg", ["-c:a", "libvorbis"]), ("48k.opus", ["-c:a", "libopus", "-b:a", "48k"]),
            ("16k.mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]), ("44k-stereo.mp3", ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k"]),
            ("16k.m4a", ["-c:a", "aac", "-b:a", "64k"]), ("44k-stereo.m4a", ["-ar", "44100", "-ac", "2", "-c:a", "aac", "-b:a", "128k"]),
            ("48k.webm", ["-c:a", "libopus", "-b:a", "48k"]),
        ]
        for (suffix, encode) in variants {
            let name = "long30." + suffix
            AudioFixtures.run(["-i", dir + "/long30.wav"] + encode + [dir + "/" + name])
            let bytes = AudioFixtures.bytes(name)
            var best = Double.infinity
            var seconds = 0.0
            for _ in 0..<7 {
                let t0 = Clock.monotonicSeconds()
                seconds = try AudioDecoder.decode(bytes: bytes).seconds
                best = min(best, Clock.monotonicSeconds() - t0)
            }
            print("EmbedAV decode \(name) (\(bytes.count) bytes, \(seconds) s): best of 7 \(Int((best * 1e4).rounded()) / 10) ms")
        }
    }
}
