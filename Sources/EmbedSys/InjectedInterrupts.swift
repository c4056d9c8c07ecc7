@preconcurrency import Glibc
import Synchronization

/// Test hook in the manner of swift-system's mocking driver: makes syscalls that
/// `retryingOnInterrupt` runs on the calling thread fail with `EINTR` before they reach the
/// kernel — what a signal arriving during them would do — so that the retry, and the callers
/// above it, can be tested without racing real signals. Scoped to one thread because tests
/// run in parallel; unarmed it costs one relaxed atomic load per retried syscall.
public enum InjectedInterrupts {
    /// Threads inside `during` (the fast path of `retryingOnInterrupt`).
    private static let armedThreads = Atomic<Int>(0)
    /// Per thread: interruptions still to inject, stored as the key's pointer bits.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    private static var remaining: Int {
        get { Int(bitPattern: pthread_getspecific(key)) }
        set { _ = pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
    }

    /// Runs `body` with the first `count` syscalls it makes on this thread through
    /// `retryingOnInterrupt` failing with `EINTR`; returns its result and how many of them
    /// were injected (each one a retry that happened). Does not nest.
    public static func during<T, E: Error>(_ count: Int, _ body: () throws(E) -> T) throws(E) -> (result: T, injected: Int) {
        precondition(count >= 0 && remaining == 0, "InjectedInterrupts.during does not nest")
        remaining = count
        armedThreads.add(1, ordering: .relaxed)
        defer {
            remaining = 0
            armedThreads.subtract(1, ordering: .relaxed)
        }
        let result = try body()
        return (result, count - remaining)
    }

    /// Whether any thread may have interruptions to inject.
    @inline(__always) static var isArmed: Bool { armedThreads.load(ordering: .relaxed) > 0 }

    /// Consumes one of this thread's interruptions, setting `errno` to `EINTR`; false (errno
    /// untouched) when it has none.
    static func takeOne() -> Bool {
        let n = remaining
        guard n > 0 else { return false }
        remaining = n - 1
        errno = EINTR
        return true
    }
}
