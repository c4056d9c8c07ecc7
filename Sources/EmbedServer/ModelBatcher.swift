import EmbedConfig
import EmbedPluginHost
import EmbedSys

/// Queues Embed calls for one model and feeds them to the plugin host in batches.
///
/// Small concurrent calls are coalesced into one plugin call (up to `max_batch` inputs), which
/// is where a transformer's throughput comes from. Batching is continuous, as in TEI: an idle
/// model starts on whatever is queued at once (a lone call never waits for company), and calls
/// that arrive while a batch computes are taken together by the next one. Only when another
/// worker of the same model is busy (`threads_per_model` > 1) does a batch wait up to
/// `max_delay` to fill, since the cores are taken anyway. Large calls run alone (the host splits them by the model's own max batch). The queue
/// is bounded by `queue_depth` inputs: beyond it calls are refused at once instead of growing
/// latency without bound (TEI's lesson). Workers are dedicated OS threads (`threads_per_model`),
/// so plugin code never runs on the event loop or on Swift concurrency's pool.
final class ModelBatcher: Sendable {
    let model: String
    private let host: PluginHost
    private let lock = ConditionLock()
    // Invariant: `state` is touched only inside `lock.withLock`.
    private nonisolated(unsafe) var state = State()
    private let settings: Batching
    private let threads: ThreadList

    private struct State {
        var jobs: [EmbedJob] = []
        var queuedInputs = 0
        var running = 0      // batches in plugin calls now
        var callsStarted: [UInt64: UInt64] = [:]  // plugin calls in progress: token → start time
        var nextCallToken: UInt64 = 0
        var stopping = false
    }

    private final class ThreadList: @unchecked Sendable {
        // Written in init only, then read by stop().
        var threads: [OSThread] = []
    }

    init(model: String, host: PluginHost, settings: Batching) throws(Errno) {
        self.model = model
        self.host = host
        self.settings = settings
        threads = ThreadList()
        for _ in 0..<max(1, settings.threadsPerModel) {
            threads.threads.append(try OSThread { [self] in self.work() })
        }
    }

    /// Queues a job; false when the queue is full or stopping (the caller answers for it).
    func submit(_ job: EmbedJob) -> Bool {
        lock.withLock {
            guard !state.stopping else { return false }
            // Cancelled and expired calls leave the queue before it counts as full (the
            // server has answered them already).
            if state.queuedInputs > 0 && state.queuedInputs + job.inputs.count > settings.queueDepth { purgeDeadJobs() }
            // An empty queue always takes a job, however big: a lone large call must not be refused.
            guard state.queuedInputs == 0 || state.queuedInputs + job.inputs.count <= settings.queueDepth else { return false }
            state.jobs.append(job)
            state.queuedInputs += job.inputs.count
            lock.broadcast()
            return true
        }
    }

    /// Drops cancelled and expired jobs from the queue, answering them. Call under the lock.
    private func purgeDeadJobs() {
        let now = Clock.monotonicNanoseconds()
        var kept: [EmbedJob] = []
        for j in state.jobs {
            if j.cancellation.isCancelled {
                j.complete(.failure(RPCError(.cancelled, "the call was cancelled")))
            } else if now >= j.deadline {
                j.complete(.failure(RPCError(.deadlineExceeded, "the call's deadline passed while it waited in the queue")))
            } else {
                kept.append(j)
                continue
            }
            state.queuedInputs -= j.inputs.count
        }
        state.jobs = kept
    }

    /// A rough token count for the batch budget: about 4 UTF-8 bytes per token for text;
    /// other inputs count as one short sequence.
    private static func tokenEstimate(_ job: EmbedJob) -> Int {
        job.inputs.reduce(0) { n, input in
            if case .text(let t) = input { return n + t.utf8.count / 4 + 2 }
            return n + 64
        }
    }

    /// Inputs waiting.
    var queuedInputs: Int { lock.withLock { state.queuedInputs } }

    /// Fails queued jobs, lets running batches finish, joins the threads.
    func stop() {
        let dropped: [EmbedJob] = lock.withLock {
            state.stopping = true
            let j = state.jobs
            state.jobs = []
            state.queuedInputs = 0
            lock.broadcast()
            return j
        }
        for j in dropped { j.complete(.failure(RPCError(.unavailable, "the server is shutting down"))) }
        for t in threads.threads { t.join() }
    }

    private func targetBatch() -> Int {
        if settings.maxBatch > 0 { return settings.maxBatch }
        return max(1, host.model(named: model)?.info.preferredBatch ?? 32)
    }

    private func work() {
        // Plugins that compute on the calling thread (no threads of their own) run here.
        try? OSThread.lowerCurrentPriority(by: settings.computeNice)
        while true {
            guard let batch = nextBatch() else { return }
            run(batch)
            lock.withLock { state.running -= 1; lock.broadcast() }  // a waiting batch may start now
        }
    }

    /// Takes the next batch: the first job plus whatever fits. While another worker's batch is
    /// computing, waits up to `max_delay` (measured from the first job's arrival) for more when
    /// the batch is not full; an idle model starts at once.
    private func nextBatch() -> [EmbedJob]? {
        let target = targetBatch()
        let delay = UInt64(settings.maxDelayMilliseconds * 1_000_000)
        return lock.withLock { () -> [EmbedJob]? in
            while state.jobs.isEmpty && !state.stopping { lock.wait() }
            if state.jobs.isEmpty { return nil }
            // Wait for company while the queue holds less than a full batch.
            while !state.stopping && delay > 0 && state.running > 0 && state.queuedInputs < target {
                let now = Clock.monotonicNanoseconds()
                let until = state.jobs[0].queuedAt + delay
                if now >= until { break }
                lock.wait(seconds: Double(until - now) / 1e9)
                if state.jobs.isEmpty {
                    state.running += 1  // balanced by work() after the empty run
                    return []
                }
            }
            var taken: [EmbedJob] = []
            var total = 0
            // Token budget (TEI's max-batch-tokens idea): a batch of long texts is cut sooner,
            // so padding to the longest sequence never makes one batch enormous.
            let tokenBudget = target * min(max(host.model(named: model)?.info.maxTokens ?? 128, 16), 128)
            var tokens = 0
            while let first = state.jobs.first, taken.isEmpty
                    || (total + first.inputs.count <= target && tokens + Self.tokenEstimate(first) <= tokenBudget) {
                taken.append(first)
                total += first.inputs.count
                tokens += Self.tokenEstimate(first)
                state.jobs.removeFirst()
            }
            state.queuedInputs -= total
            state.running += 1
            return taken
        }
    }

    private func run(_ batch: [EmbedJob]) {
        let now = Clock.monotonicNanoseconds()
        var live: [EmbedJob] = []
        for job in batch {
            if job.cancellation.isCancelled {
                job.complete(.failure(RPCError(.cancelled, "the call was cancelled")))
            } else if now >= job.deadline {
                job.complete(.failure(RPCError(.deadlineExceeded, "the call's deadline passed while it waited in the queue")))
            } else {
                live.append(job)
            }
        }
        guard !live.isEmpty else { return }
        // One job: its own flag cancels the plugin call. Several: the plugin call is shared, so
        // it runs to the end and cancelled jobs are answered by the server already.
        let flag = live.count == 1 ? live[0].cancellation : nil
        let inputs = live.count == 1 ? live[0].inputs : live.flatMap(\.inputs)
        let result: EmbedBatch
        do {
            result = try timedEmbed(inputs, cancel: flag)
        } catch {
            // A shared call the plugin failed as a whole may have failed for one job's inputs:
            // run each job alone, so a call fails only for its own inputs. Other failures (no
            // such model, shutting down) are the same for every job and are not retried.
            guard live.count > 1, error.kind == .batchFailed else {
                for job in live { job.complete(.failure(RPCError(error))) }
                return
            }
            for job in live {
                if job.cancellation.isCancelled {
                    job.complete(.failure(RPCError(.cancelled, "the call was cancelled")))
                    continue
                }
                if Clock.monotonicNanoseconds() >= job.deadline {
                    job.complete(.failure(RPCError(.deadlineExceeded, "the call's deadline passed while its batch was retried")))
                    continue
                }
                do {
                    let alone = try timedEmbed(job.inputs, cancel: job.cancellation)
                    job.complete(.success(Self.slice(alone, offset: 0, count: job.inputs.count)))
                } catch {
                    job.complete(.failure(RPCError(error)))
                }
            }
            return
        }
        var offset = 0
        for job in live {
            job.complete(.success(Self.slice(result, offset: offset, count: job.inputs.count)))
            offset += job.inputs.count
        }
    }

    /// One plugin call, timed: `longestRunningCall` sees it while it runs.
    private func timedEmbed(_ inputs: [EmbedInput], cancel: CancellationFlag?) throws(PluginError) -> EmbedBatch {
        let token: UInt64 = lock.withLock {
            state.nextCallToken += 1
            state.callsStarted[state.nextCallToken] = Clock.monotonicNanoseconds()
            return state.nextCallToken
        }
        defer { lock.withLock { _ = state.callsStarted.removeValue(forKey: token) } }
        return try host.embed(model: model, inputs: inputs, cancel: cancel)
    }

    /// How long the oldest plugin call in progress has been running at `now` (nanoseconds), or
    /// nil. A call that started after `now` was read counts as 0, not as a wrapped-around age.
    func longestRunningCall(now: UInt64) -> UInt64? {
        lock.withLock { state.callsStarted.values.min().map { now > $0 ? now - $0 : 0 } }
    }

    /// Rows `offset ..< offset + count` of a plugin call's result, for one job.
    private static func slice(_ result: EmbedBatch, offset: Int, count n: Int) -> BatchSlice {
        let d = result.dimension
        return BatchSlice(dimension: d, vectors: Array(result.vectors[offset * d ..< (offset + n) * d]),
                          failures: Array(result.failures[offset ..< offset + n]),
                          modelVersion: result.modelVersion, generation: result.generation,
                          embeddingSpace: result.embeddingSpace)
    }
}
