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

    /// The calling thread's nice value (-20 … 19). On Linux niceness belongs to each thread, and
    /// a thread it creates starts with the same value.
    public static var currentNice: Int32 {
        errno = 0
        let n = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)  // who 0 = this thread on Linux
        return n == -1 && errno != 0 ? 0 : n
    }

    /// Lowers the calling thread's priority by `steps` nice values (capped at 19), so that
    /// threads which answer clients win the CPU from it when both want it. Unprivileged
    /// processes may always lower their own priority; `steps` ≤ 0 changes nothing.
    /// - Throws: `Errno` from `setpriority`.
    public static func lowerCurrentPriority(by steps: Int) throws(Errno) {
        guard steps > 0 else { return }
        let target = Int32(min(19, Int(currentNice) + steps))
        if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, target) != 0 { throw Errno.current }
    }

    /// Runs `body` on a new thread whose priority is lowered by `niceSteps` and waits for it.
    /// Threads that `body` starts (a library's worker pool, say) inherit the lowered priority,
    /// which is how a plugin's own compute threads get it without knowing about it.
    /// With `niceSteps` ≤ 0 `body` runs on the calling thread.
    /// - Throws: `Errno` when the thread cannot be started.
    public static func runJoined<R>(niceSteps: Int, _ body: @escaping () -> R) throws(Errno) -> R {
        guard niceSteps > 0 else { return body() }
        let slot = JoinSlot(body)
        let thread = try OSThread {
            try? lowerCurrentPriority(by: niceSteps)  // best effort: the work runs either way
            slot.value = slot.body()
        }
        thread.join()
        return slot.value!
    }

    /// Gives the CPU to another runnable thread, if any (`sched_yield`).
    public static func yield() { _ = sched_yield() }

    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}

/// Carries `OSThread.runJoined`'s body to its thread and the result back.
private final class JoinSlot<R>: @unchecked Sendable {
    // Invariant: `value` is written by the thread before it ends and read only after `join`.
    var value: R? = nil
    let body: () -> R
    init(_ body: @escaping () -> R) { self.body = body }
}
