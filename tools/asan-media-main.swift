// tools/asan-media's harness: decodes every file named on the command line, then 300 seeded
// mutations of each, in one AddressSanitizer build of EmbedMedia's sources (of EmbedAV's when
// built with -D AUDIO: as sound, then as video, three frames sampled).
import Glibc
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
func read(_ path: String) -> [UInt8] {
    guard let f = fopen(path, "rb") else { return [] }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true { let n = fread(&buf, 1, buf.count, f); if n <= 0 { break }; out += buf[0..<n] }
    return out
}
var rng = SplitMix64(state: 42)
var ok = 0, bad = 0
for path in CommandLine.arguments.dropFirst() {
    let original = read(path)
    if original.isEmpty { continue }
    for k in 0..<301 {
        var b = original
        if k > 0 {
            switch rng.next() % 3 {
            case 0: for _ in 0..<(1 + Int(rng.next() % 8)) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 1: b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
            default: let at = Int(rng.next() % UInt64(min(b.count, 64))); b[at] = UInt8(truncatingIfNeeded: rng.next())
            }
        }
        #if AUDIO
        do { _ = try AudioDecoder.decode(bytes: b, limits: AudioLimits(maxSeconds: 120)); ok += 1 } catch { bad += 1 }
        do {
            let reader = try VideoReader(.bytes(b), limits: VideoLimits(maxDecodeSeconds: 30), threads: 1)
            try reader.frames(k % 4 == 3 ? .scenes(threshold: 0.1, maxFrames: 3) : .uniform(count: 3)) { _ in }
            ok += 1
        } catch { bad += 1 }
        #else
        do { _ = try ImageDecoder.decode(bytes: b); ok += 1 } catch { bad += 1 }
        #endif
    }
}
print("asan harness: \(ok) decoded, \(bad) refused")
