import EmbedSys
import Synchronization
import Testing

@Suite struct ReadWriteLockTests {
    @Test func readersShareWritersExclude() throws {
        let lock = ReadWriteLock()
        let inside = Atomic<Int>(0), maxReaders = Atomic<Int>(0), violations = Atomic<Int>(0)
        let counter = Mutex(0)
        var threads: [OSThread] = []
        for t in 0..<6 {
            threads.append(try OSThread {
                for _ in 0..<2000 {
                    if t < 4 {
                        lock.withReadLock {
                            let n = inside.add(1, ordering: .relaxed).newValue
                            maxReaders.max(n, ordering: .relaxed)
                            if n < 0 { violations.add(1, ordering: .relaxed) }
                            inside.subtract(1, ordering: .relaxed)
                        }
                    } else {
                        lock.withWriteLock {
                            if inside.exchange(-1000, ordering: .relaxed) != 0 { violations.add(1, ordering: .relaxed) }
                            counter.withLock { $0 += 1 }
                            inside.store(0, ordering: .relaxed)
                        }
                    }
                }
            })
        }
        for t in threads { t.join() }
        #expect(violations.load(ordering: .relaxed) == 0)
        #expect(counter.withLock { $0 } == 4000)
    }

    @Test func conditionLockWakesWaiter() throws {
        let c = ConditionLock()
        let flag = Mutex(false)
        let t = try OSThread {
            ChildProcess.sleep(seconds: 0.02)
            c.withLock { flag.withLock { $0 = true }; c.broadcast() }
        }
        c.withLock { while !flag.withLock({ $0 }) { c.wait(seconds: 1) } }
        t.join()
        #expect(flag.withLock { $0 })
    }
}
