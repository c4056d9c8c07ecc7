import Testing
@testable import EmbedSys

@Suite struct WakeupEventTests {
    @Test func wakeupEventWakesPoll() throws {
        let w = try WakeupEvent()
        var entries = [Poll.Entry(w.descriptor, .readable)]
        #expect(try Poll.wait(&entries, timeoutMilliseconds: 0) == 0)
        w.signal()
        w.signal()
        #expect(try Poll.wait(&entries, timeoutMilliseconds: 1000) == 1)
        w.reset()
        #expect(try Poll.wait(&entries, timeoutMilliseconds: 0) == 0)
    }
}
