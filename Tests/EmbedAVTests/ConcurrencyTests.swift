import EmbedAV
import EmbedSys
import Testing

/// Decodes from several threads at once give what one thread gives (each call owns its FFmpeg
/// contexts; the log callback is process-wide and must not mix their messages up).
@Suite(.enabled(if: AudioFixtures.available, AudioFixtures.skipReason))
struct ConcurrencyTests {
    @Test func fourThreadsAgreeWithOne() throws {
        let names = ["s44.mp3", "s44.m4a", "s44.opus", "s44.flac", "m48.ogg", "m16.webm", "s44.s24.wav", "m48.aac"]
        var expected: [String: [Float]] = [:]
        for name in names { expected[name] = try AudioDecoder.decode(bytes: AudioFixtures.bytes(name)).samples }
        // A damaged file among them: its error text comes from FFmpeg's log, per call.
        var damaged = AudioFixtures.bytes("m16.s16.wav")
        damaged[15] = UInt8(ascii: "X")
        let broken = damaged
        let inputs = names.map { AudioFixtures.bytes($0) }
        let frozen = expected
        let mismatches = Mismatches()
        var threads: [OSThread] = []
        for t in 0..<4 {
            threads.append(try OSThread {
                for round in 0..<6 {
                    let i = (t + round) % names.count
                    let result = try? AudioDecoder.decode(bytes: inputs[i]).samples
                    if result != frozen[names[i]] { mismatches.add(names[i]) }
                    do throws(AudioError) { _ = try AudioDecoder.decode(bytes: broken) } catch {
                        if error != .corrupt(container: "WAV", detail: "reading the header: no 'fmt ' or 'XMA2' tag found") {
                            mismatches.add("broken: \(error)")
                        }
                    }
                }
            })
        }
        for thread in threads { thread.join() }
        #expect(mismatches.all.isEmpty)
    }
}

/// What the threads found wrong. Invariant: `names` is read and written only under `lock`.
final class Mismatches: @unchecked Sendable {
    private let lock = ConditionLock()
    private var names: [String] = []
    func add(_ name: String) { lock.withLock { names.append(name) } }
    var all: [String] { lock.withLock { names } }
}
