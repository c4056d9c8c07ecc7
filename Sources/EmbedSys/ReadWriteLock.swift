@preconcurrency import Glibc

/// A readers–writer lock (`pthread_rwlock_t`) that prefers writers, so a steady stream of
/// readers cannot starve the one writer.
///
/// Why not `Mutex`: many searches must run at once while mutations stay exclusive.
/// Invariant: the `pthread_rwlock_t` lives in heap memory that never moves and is destroyed
/// only in `deinit`; that is why the class is `@unchecked Sendable`.
public final class ReadWriteLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    /// Creates an unlocked lock (`pthread_rwlock_init` with
    /// `PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP`).
    public init() {
        lock = .allocate(capacity: 1)
        var attr = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attr)
        pthread_rwlockattr_setkind_np(&attr, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        pthread_rwlock_init(lock, &attr)
        pthread_rwlockattr_destroy(&attr)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Runs `body` holding the lock shared (`pthread_rwlock_rdlock`).
    @inlinable
    public func withReadLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lockShared()
        defer { unlock() }
        return try body()
    }

    /// Runs `body` holding the lock shared if it can be had without waiting
    /// (`pthread_rwlock_tryrdlock`); nil when a writer holds it or, as writers are preferred,
    /// waits for it.
    @inlinable
    public func withReadLockIfFree<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T? {
        guard tryLockShared() else { return nil }
        defer { unlock() }
        return try body()
    }

    /// Runs `body` holding the lock exclusively (`pthread_rwlock_wrlock`).
    @inlinable
    public func withWriteLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lockExclusive()
        defer { unlock() }
        return try body()
    }

    /// Takes the lock shared; pair with `unlock()`.
    @usableFromInline func lockShared() { pthread_rwlock_rdlock(lock) }
    /// Takes the lock shared if that needs no wait; pair a `true` with `unlock()`.
    @usableFromInline func tryLockShared() -> Bool { pthread_rwlock_tryrdlock(lock) == 0 }
    /// Takes the lock exclusively; pair with `unlock()`.
    @usableFromInline func lockExclusive() { pthread_rwlock_wrlock(lock) }
    /// Releases the lock.
    @usableFromInline func unlock() { pthread_rwlock_unlock(lock) }
}
