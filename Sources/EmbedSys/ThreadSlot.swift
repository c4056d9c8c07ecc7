@preconcurrency import Glibc

/// One integer per thread (a pthread key), zero until set on that thread.
///
/// The plugin host marks the thread running a model's plugin call with the model's tag, so a
/// plugin that asks the host to embed with another model (ABI 1.1 `embed_with`) can be refused
/// when the target is the model it is running in — that call would wait for itself.
public final class ThreadSlot: Sendable {
    // Invariant: created once in init and never deleted (slots are process-lifetime statics).
    private nonisolated(unsafe) let key: pthread_key_t

    public init() {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        self.key = key
    }

    /// This thread's value.
    public var value: Int {
        get { Int(bitPattern: pthread_getspecific(key)) }
        set { _ = pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
    }

    /// Runs `body` with this thread's value set to `value`, restoring the previous one after.
    public func with<T, E: Error>(_ value: Int, _ body: () throws(E) -> T) throws(E) -> T {
        let previous = self.value
        self.value = value
        defer { self.value = previous }
        return try body()
    }
}
