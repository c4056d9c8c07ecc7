@preconcurrency import Glibc

/// A dedicated operating-system thread (`pthread_create`), for long-running blocking work that
/// must not sit on Swift concurrency's small cooperative pool (DESIGN §5).
public final class OSThread: @unchecked Sendable {
    // Invariant: `handle` is written once by `init` before any other access, and `join()`
    // is called at most once (guarded by `joined`, which only the owner touches).
    private var handle: pthread_t = 0
    private var joined = false

    /// Starts a thread running `body`.
    /// - Throws: `Errno` from `pthread_create` (e.g. `EAGAIN` at the thread limit).
    public init(_ body: @escaping @Sendable () -> Void) throws(Errno) {
        handle = try Self.spawn(body)
    }

    /// Runs `body` on a new detached thread (nobody joins it; its resources go when it ends).
    /// - Throws: `Errno` from `pthread_create`.
    public static func detach(_ body: @escaping @Sendable () -> Void) throws(Errno) {
        pthread_detach(try spawn(body))
    }

    /// `pthread_create` running `body`; the box carrying it is released by the thread.
    private static func spawn(_ body: @escaping @Sendable () -> Void) throws(Errno) -> pthread_t {
        var handle: pthread_t = 0
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&handle, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        if rc != 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            throw Errno(rawValue: rc)
        }
        return handle
    }

    /// Waits for the thread to finish (`pthread_join`). Safe to call more than once.
    public func join() {
        guard !joined else { return }
        joined = true
        pthread_join(handle, nil)
    }

    /// Gives the CPU to another runnable thread, if any (`sched_yield`).
    public static func yield() { _ = sched_yield() }

    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}
