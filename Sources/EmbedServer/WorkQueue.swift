import EmbedSys

/// A FIFO of jobs served by a fixed set of dedicated OS threads.
///
/// Plugin calls block for milliseconds to seconds; they run here, never on the event loop and
/// never on Swift concurrency's cooperative pool (DESIGN §5).
public final class WorkQueue: Sendable {
    private let lock = ConditionLock()
    // Invariant: `state` is only touched inside `lock.withLock`.
    private nonisolated(unsafe) var state = State()
    private let threadsBox: ThreadsBox
    public let name: String

    private struct State {
        /// Jobs in order; a started job's slot is emptied at once. A job's closure holds what
        /// its call holds (the request payload, passed descriptors): kept in the array until
        /// the next compaction, up to 1024 finished jobs pinned their frames and files.
        var jobs: [(@Sendable () -> Void)?] = []
        var head = 0
        var stopping = false
    }

    private final class ThreadsBox: @unchecked Sendable {
        // Written once in init before any other access, read in join().
        var threads: [OSThread] = []
    }

    /// Starts `threads` worker threads.
    public init(name: String, threads: Int) throws(Errno) {
        self.name = name
        threadsBox = ThreadsBox()
        for _ in 0..<max(1, threads) {
            threadsBox.threads.append(try OSThread { [self] in self.run() })
        }
    }

    /// Jobs waiting (not yet started).
    public var pending: Int { lock.withLock { state.jobs.count - state.head } }

    /// Queues a job; returns false once the queue is stopping.
    @discardableResult
    public func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        lock.withLock {
            guard !state.stopping else { return false }
            state.jobs.append(job)
            lock.signal()  // one job, one worker; `stop()` wakes them all
            return true
        }
    }

    /// Lets queued jobs finish, then stops and joins the threads.
    public func stop() {
        lock.withLock {
            state.stopping = true
            lock.broadcast()
        }
        for t in threadsBox.threads { t.join() }
    }

    private func run() {
        while true {
            let job: (@Sendable () -> Void)? = lock.withLock {
                while state.head == state.jobs.count && !state.stopping { lock.wait() }
                guard state.head < state.jobs.count else { return nil }
                let j = state.jobs[state.head].take()
                state.head += 1
                if state.head == state.jobs.count {
                    state.jobs.removeAll(keepingCapacity: state.jobs.capacity <= 4096)
                    state.head = 0
                } else if state.head > 1024 && state.head * 2 > state.jobs.count {
                    state.jobs.removeFirst(state.head)
                    state.head = 0
                }
                return j
            }
            guard let job else { return }
            job()
        }
    }
}
