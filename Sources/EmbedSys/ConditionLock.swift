@preconcurrency import Glibc

/// A mutex with a condition variable (`pthread_mutex_t` + `pthread_cond_t`), for threads that
/// must sleep until some state changes — group commit and background workers.
///
/// Why not `Synchronization.Mutex`: it has no way to wait for a condition.
/// Invariant: both pthread objects live in heap memory that never moves, destroyed only in
/// `deinit`; that is why the class is `@unchecked Sendable`.
public final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    /// Creates an unlocked lock (`pthread_mutex_init`, `pthread_cond_init` on CLOCK_MONOTONIC).
    public init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the mutex.
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Sleeps until signalled (`pthread_cond_wait`). Call only while holding the lock (inside
    /// `withLock`), in a loop that re-checks the condition: wake-ups may be spurious.
    public func wait() { pthread_cond_wait(condition, mutex) }

    /// Like `wait()`, but gives up after `seconds` (`pthread_cond_timedwait`).
    public func wait(seconds: Double) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanos = Int(now.tv_nsec) + Int(seconds.truncatingRemainder(dividingBy: 1) * 1e9)
        var deadline = timespec()
        deadline.tv_sec = now.tv_sec + Int(seconds) + nanos / 1_000_000_000
        deadline.tv_nsec = nanos % 1_000_000_000
        pthread_cond_timedwait(condition, mutex, &deadline)
    }

    /// Wakes every waiter (`pthread_cond_broadcast`).
    public func broadcast() { pthread_cond_broadcast(condition) }

    /// Wakes one waiter, if any (`pthread_cond_signal`): for a queue whose waiters are
    /// interchangeable, one new item needs one of them, not all (each needless wake-up is a
    /// context switch on a CPU that the woken work needs).
    public func signal() { pthread_cond_signal(condition) }
}
