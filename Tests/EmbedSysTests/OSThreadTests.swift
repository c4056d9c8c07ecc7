import Testing
@preconcurrency import Glibc
@testable import EmbedSys

@Suite struct OSThreadTests {
    /// `runJoined` lowers the priority of the thread it starts and of the threads that one
    /// starts, and leaves the caller's alone.
    @Test func runJoinedLowersItsThreadAndItsChildren() throws {
        let base = OSThread.currentNice
        let expected = min(19, base + 3)
        let caller = pthread_self()
        let seen = try OSThread.runJoined(niceSteps: 3) { () -> (Int32, Int32, Bool) in
            final class Box: @unchecked Sendable { var nice: Int32 = -100 }
            let child = Box()
            let t = try? OSThread { child.nice = OSThread.currentNice }
            t?.join()
            return (OSThread.currentNice, child.nice, pthread_equal(pthread_self(), caller) != 0)
        }
        #expect(seen.0 == expected && seen.1 == expected)
        #expect(!seen.2, "the body ran on a thread of its own")
        #expect(OSThread.currentNice == base, "the caller keeps its priority")
    }

    @Test func zeroStepsRunsOnTheCaller() throws {
        let caller = pthread_self()
        let same = try OSThread.runJoined(niceSteps: 0) { pthread_equal(pthread_self(), caller) != 0 }
        #expect(same)
    }

    @Test func loweringIsCappedAt19() throws {
        let nice = try OSThread.runJoined(niceSteps: 40) { OSThread.currentNice }
        #expect(nice == 19)
    }
}
