import EmbedSys

/// A tiny fork-join pool for the Swift parts of a forward pass (attention), whose cores are
/// otherwise idle between oneDNN's OpenMP regions. The caller runs share 0 itself; `helpers`
/// OS threads run the others. One `run` at a time (the model's compute thread).
final class ParallelFor: @unchecked Sendable {
    private final class State: @unchecked Sendable {
        // Invariant: all vars are guarded by `lock`; `body` is only called between a `run`'s
        // publication and its return (the caller waits for `pending == 0`).
        let lock = ConditionLock()
        var generation: UInt64 = 0
        var pending = 0
        var stopping = false
        var body: ((Int) -> Void)? = nil
    }

    private let state = State()
    private var threads: [OSThread] = []
    /// Number of shares a `run` splits into (helpers + the caller).
    let width: Int

    init(helpers: Int) {
        var started: [OSThread] = []
        let s = state
        for k in 0..<max(0, helpers) {
            let share = k + 1
            guard let t = try? OSThread({ Self.loop(s, share: share) }) else { break }
            started.append(t)
        }
        threads = started
        width = started.count + 1
    }

    private static func loop(_ s: State, share: Int) {
        var seen: UInt64 = 0
        while true {
            let body: ((Int) -> Void)? = s.lock.withLock {
                while s.generation == seen && !s.stopping { s.lock.wait() }
                seen = s.generation
                return s.stopping ? nil : s.body
            }
            guard let body else { return }
            body(share)
            s.lock.withLock {
                s.pending -= 1
                if s.pending == 0 { s.lock.broadcast() }
            }
        }
    }

    /// Calls `body(share)` for every share in `0..<width` in parallel and returns when all are done.
    func run(_ body: @escaping (Int) -> Void) {
        guard width > 1 else { body(0); return }
        let s = state
        s.lock.withLock {
            s.body = body
            s.pending = width - 1
            s.generation += 1
            s.lock.broadcast()
        }
        body(0)
        s.lock.withLock {
            while s.pending > 0 { s.lock.wait() }
            s.body = nil
        }
    }

    deinit {
        state.lock.withLock {
            state.stopping = true
            state.lock.broadcast()
        }
        threads.forEach { $0.join() }
    }
}
