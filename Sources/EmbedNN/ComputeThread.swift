import EmbedSys

/// One dedicated OS thread that runs a model's computations, one job at a time.
///
/// Why: oneDNN's CPU runtime is OpenMP, whose thread team belongs to the calling thread. Calling
/// from whatever thread the host happens to use would build a team per caller (and oversubscribe
/// the cores); funnelling every call through one thread per model keeps exactly one team, sized
/// by the model's `threads` option, and lets `stop()` end it when the model is released.
public final class ComputeThread: @unchecked Sendable {
    /// The state shared with the thread (the thread holds it strongly, not the owner).
    private final class State: @unchecked Sendable {
        // Invariant: every var is only touched under `lock`; a job closure is only called while
        // its submitter is blocked in `run`, so the non-escaping body it wraps is still alive.
        let lock = ConditionLock()
        var job: (() -> Void)? = nil
        var submitted: UInt64 = 0
        var completed: UInt64 = 0
        var stopping = false

        func loop() {
            while true {
                let next: (() -> Void)? = lock.withLock {
                    while job == nil && !stopping { lock.wait() }
                    return job
                }
                guard let next else { return }
                next()
                lock.withLock {
                    job = nil
                    completed += 1
                    lock.broadcast()
                }
            }
        }
    }

    private let state = State()
    private var thread: OSThread?

    /// Starts the thread.
    public init() throws(NNError) {
        let s = state
        do {
            thread = try OSThread { s.loop() }
        } catch {
            throw NNError("cannot start the compute thread: \(error)")
        }
    }

    /// Runs `body` on the compute thread and returns its result; callers queue behind each other.
    /// (`body` is escaping because it is handed to another thread; it is released before
    /// `run` returns.)
    public func run<R>(_ body: @escaping () throws -> R) throws -> R {
        let s = state
        let box = ResultBox<R>()
        let ticket: UInt64 = try s.lock.withLock { () throws(NNError) -> UInt64 in
            while s.job != nil && !s.stopping { s.lock.wait() }
            guard !s.stopping else { throw NNError("the model is being released") }
            s.job = { box.value = Result { try body() } }
            s.submitted += 1
            s.lock.broadcast()
            return s.submitted
        }
        s.lock.withLock { while s.completed < ticket { s.lock.wait() } }
        return try box.value!.get()
    }

    /// Loads a model's parts on the compute thread (oneDNN's weight reorders included: they
    /// must run where the model's calls will), any error becoming an `NNError` that names
    /// `folder`. A model whose init then fails releases this thread with it (`deinit`).
    public func load<R>(_ folder: String, _ body: @escaping () throws -> R) throws(NNError) -> R {
        do { return try run(body) } catch let e as NNError { throw e } catch {
            throw NNError("loading the model in \(folder): \(error)")
        }
    }

    /// Carries a job's result back to the submitter (written on the compute thread before the
    /// completion is published under the lock, read after).
    private final class ResultBox<R>: @unchecked Sendable {
        var value: Result<R, any Error>? = nil
    }

    /// Lets the current job finish, then ends the thread (and with it its OpenMP team).
    public func stop() {
        state.lock.withLock {
            state.stopping = true
            state.lock.broadcast()
        }
        thread?.join()
        thread = nil
    }

    deinit { stop() }
}
