import Testing
@testable import EmbedSys

@Suite struct SignalsTests {
    @Test func signalfdReceivesBlockedSignals() throws {
        // SIGHUP blocked on this thread only, and raised at this thread only: no other thread sees it.
        let s = try Signals.blockAndCreate([Signals.hangUp])
        defer { try? s.descriptor.close() }
        #expect(s.drain().isEmpty)
        // pthread_kill to ourselves keeps the signal on this thread, where it is blocked.
        Signals.raiseOnCurrentThread(Signals.hangUp)
        var entries = [Poll.Entry(s.descriptor, .readable)]
        #expect(try Poll.wait(&entries, timeoutMilliseconds: 2000) == 1)
        #expect(s.drain() == [Signals.hangUp])
    }
}
