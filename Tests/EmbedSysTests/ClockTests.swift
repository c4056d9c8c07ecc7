import Testing
@testable import EmbedSys

@Suite struct ClockTests {
    @Test func clockIsMonotonic() {
        let a = Clock.monotonicNanoseconds()
        Clock.sleep(seconds: 0.01)
        let b = Clock.monotonicNanoseconds()
        #expect(b - a >= 10_000_000)
        #expect(Clock.realtimeMicroseconds() > 1_600_000_000_000_000)
    }
}
