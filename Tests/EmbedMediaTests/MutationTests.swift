import EmbedMedia
import EmbedSys
import Testing

/// Seeded random damage to every small fixture, decoded in process: each must decode or throw,
/// never trap, hang or read out of bounds (run under ASan for the strongest form of this test).
@Suite struct MutationTests {
    @Test func mutatedFixturesNeverTrap() {
        var rng = SplitMix64(seed: 0x1955_2026)
        var decoded = 0, failed = 0
        for entry in MediaFixtures.entries where entry.width * entry.height <= 5_000 {
            let original = MediaFixtures.bytes(entry.name)
            for _ in 0..<200 {
                var b = original
                switch rng.next() % 4 {
                case 0:  // flip a few bytes
                    for _ in 0..<(1 + Int(rng.next() % 8)) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
                case 1:  // cut
                    b = Array(b.prefix(Int(rng.next() % UInt64(b.count))))
                case 2:  // overwrite a run with 0xFF or 0x00 (marker and length damage)
                    let at = Int(rng.next() % UInt64(b.count)), n = min(b.count - at, 1 + Int(rng.next() % 16))
                    let v: UInt8 = rng.next() % 2 == 0 ? 0xFF : 0x00
                    for i in at..<(at + n) { b[i] = v }
                default:  // set a header-region byte (dimensions, lengths, chunk types)
                    let at = Int(rng.next() % UInt64(min(b.count, 64)))
                    b[at] = UInt8(truncatingIfNeeded: rng.next())
                }
                do { _ = try ImageDecoder.decode(bytes: b); decoded += 1 } catch { failed += 1 }
            }
        }
        #expect(decoded + failed >= 8_000)
        #expect(failed > 0 && decoded > 0)
    }

    /// Files written by tools/fuzz-images, when $EMBEDD_FUZZ_DIR names their folder.
    @Test func fuzzImagesFolder() throws {
        guard let dir = Environment.get("EMBEDD_FUZZ_DIR"), !dir.isEmpty else { return }
        var decoded = 0, failed = 0
        for name in try FileSystem.contentsOfDirectory(dir).sorted() where name != "MANIFEST.txt" {
            let bytes = try FileSystem.readFile(dir + "/" + name)
            do { _ = try ImageDecoder.decode(bytes: bytes); decoded += 1 } catch { failed += 1 }
        }
        print("fuzz-images folder: \(decoded) decoded, \(failed) refused, no trap")
    }
}
