import EmbedAV
import EmbedSys
import Testing

/// Seeded random damage to real files of every format, decoded in process: each must decode or
/// throw, never trap, hang or read out of bounds (tools/asan-media runs EmbedMedia's sources
/// under AddressSanitizer; FFmpeg itself is Debian's build).
@Suite(.enabled(if: AudioFixtures.available, AudioFixtures.skipReason))
struct MutationTests {
    @Test func mutatedFilesNeverTrap() {
        var rng = SplitMix64(seed: 0x2021_0021)
        var decoded = 0, refused: [String: Int] = [:]
        let names = AudioFixtures.files.filter { $0.source == "m48.wav" }.map(\.name)
        for name in names {
            let original = AudioFixtures.bytes(name)
            guard !original.isEmpty else { continue }
            for _ in 0..<24 {
                var b = original
                switch rng.next() % 5 {
                case 0:  // flip a few bytes anywhere
                    for _ in 0..<(1 + Int(rng.next() % 16)) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
                case 1:  // cut
                    b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
                case 2:  // a run of 0x00 / 0xFF (sizes, sync words)
                    let at = Int(rng.next() % UInt64(b.count)), n = min(b.count - at, 1 + Int(rng.next() % 64))
                    let v: UInt8 = rng.next() % 2 == 0 ? 0xFF : 0x00
                    for i in at..<(at + n) { b[i] = v }
                case 3:  // the header region: sizes, rates, channel counts, codec tags
                    for _ in 0..<(1 + Int(rng.next() % 4)) { b[Int(rng.next() % UInt64(min(b.count, 256)))] = UInt8(truncatingIfNeeded: rng.next()) }
                default:  // a region repeated (duplicated headers, frames and pages)
                    let at = Int(rng.next() % UInt64(b.count)), n = min(b.count - at, 1 + Int(rng.next() % 512))
                    b.insert(contentsOf: b[at..<(at + n)], at: at)
                }
                do {
                    let audio = try AudioDecoder.decode(bytes: b, limits: AudioLimits(maxSeconds: 60))
                    #expect(audio.samples.allSatisfy { $0.isFinite })
                    decoded += 1
                } catch {
                    refused[Self.kind(error), default: 0] += 1
                }
            }
        }
        print("mutations: \(decoded) decoded, refused \(refused.sorted { $0.key < $1.key })")
        #expect(decoded + refused.values.reduce(0, +) >= 350)
        #expect(decoded > 0 && refused.count >= 3)
    }

    /// The case's name ("truncated", "corrupt", ...).
    static func kind(_ error: AudioError) -> String {
        Mirror(reflecting: error).children.first?.label ?? "\(error)"
    }

    /// Files written by tools/fuzz-images, when $EMBEDD_FUZZ_AUDIO_DIR names their folder, each
    /// declared as the type its extension implies (as a client would send it).
    @Test func fuzzFolder() throws {
        guard let dir = Environment.get("EMBEDD_FUZZ_AUDIO_DIR"), !dir.isEmpty else { return }
        let types = ["wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg", "oga": "audio/ogg",
                     "opus": "audio/ogg", "m4a": "audio/mp4", "mp4": "video/mp4", "webm": "video/webm", "aac": "audio/aac",
                     "aiff": "audio/aiff"]
        var decoded = 0, refused: [String: Int] = [:]
        for name in try FileSystem.contentsOfDirectory(dir).sorted() where name != "MANIFEST.txt" {
            let bytes = try FileSystem.readFile(dir + "/" + name)
            let type = name.split(separator: ".").last.flatMap { types[String($0)] }
            do { _ = try AudioDecoder.decode(bytes: bytes, mimeType: type); decoded += 1 } catch { refused[Self.kind(error), default: 0] += 1 }
        }
        print("fuzz folder: \(decoded) decoded, refused \(refused.sorted { $0.key < $1.key }), no trap")
    }
}
