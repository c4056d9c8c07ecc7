import EmbedConfig
import EmbedPluginHost
import EmbedSys

/// Queues Embed calls for one model and feeds them to the plugin host in batches.
///
/// Small concurrent calls are coalesced into one plugin call (up to `max_batch` inputs), which
/// is where a transformer's throughput comes from. Batching is continuous, as in TEI: calls that
/// arrive while a batch computes are taken together by the next one, and a call nobody else is
/// expected to join starts at once (a lone client never waits for company). A worker waits up to
/// `max_delay` for a fuller batch only when company is known to be coming:
/// - another worker of the same model is busy (`threads_per_model` > 1: the cores are taken;
///   the delay counts from the first queued call's arrival);
/// - the callers of the last multi-call batch have not all sent their next call yet. Clients
///   that call in a loop come back a millisecond or two after their answer; without the wait
///   they split into two alternating half-size batches, and a transformer computes fewer
///   sentences per second at the smaller batch (bench/NOTES.md, stop 15). The wait ends when
///   they are all back. It happens only while at least half of
///   the answered callers come back within a batch's compute time (not for callers that call
///   once, or now and then), and lasts at most twice their measured return time plus 0.2 ms
///   (counted from the batch's last answer), an eighth of the last batch's compute time, and
///   `max_delay` counted from the moment the worker is free (the queued calls may have arrived
///   during the last batch).
///
/// Large calls run alone (the host splits them by the model's own max batch). The queue
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
    /// The model's plugin-call durations, batch sizes and shed calls.
    private let metrics: ModelMetrics

    private struct State {
        var jobs: [EmbedJob] = []
        var queuedInputs = 0
        var running = 0      // batches in plugin calls now
        var callsStarted: [UInt64: UInt64] = [:]  // plugin calls in progress: token → start time
        var nextCallToken: UInt64 = 0
        var stopping = false
        /// Callers answered by multi-call batches that have not sent their next call yet
        /// (connection → calls, when answered): closed-loop clients about to come back.
        var returning: [Int: (calls: Int, answeredAt: UInt64)] = [:]
        /// Moving average of how long an answered caller took to come back (ns).
        var turnaround: UInt64 = 500_000
        /// Moving average of the share of answered callers back within `returnPatience`.
        var returnRate = 1.0
        /// How long the last batch computed (ns).
        var lastBatchNanos: UInt64 = 0
        /// Moving average of compute time per input (ns; 0 until a batch has run), and the last
        /// batch's: the deadline admission estimates the queue's wait with the smaller, so a
        /// slow first batch (kernels built on first use) does not make it refuse calls.
        var nanosPerInput: UInt64 = 0
        var lastNanosPerInput: UInt64 = 0
    }

    private final class ThreadList: @unchecked Sendable {
        // Written in init only, then read by stop().
        var threads: [OSThread] = []
    }

    init(model: String, host: PluginHost, settings: Batching, metrics: ModelMetrics = ModelMetrics()) throws(Errno) {
        self.model = model
        self.host = host
        self.settings = settings
        self.metrics = metrics
        threads = ThreadList()
        for _ in 0..<max(1, settings.threadsPerModel) {
            threads.threads.append(try OSThread { [self] in self.work() })
        }
    }

    /// Queues a job; returns why it was refused instead (the caller answers the call with it):
    /// the queue is full, the work queued ahead would outlast the call's deadline, or the
    /// batcher is stopping.
    func submit(_ job: EmbedJob) -> RPCError? {
        let refused = enqueue(job)
        if refused?.code == .resourceExhausted || refused?.code == .deadlineExceeded { metrics.shed.add() }
        return refused
    }

    private func enqueue(_ job: EmbedJob) -> RPCError? {
        lock.withLock { () -> RPCError? in
            guard !state.stopping else { return RPCError(.unavailable, "the server is shutting down") }
            // Cancelled and expired calls leave the queue before it counts as full (the
            // server has answered them already).
            if state.queuedInputs > 0 && state.queuedInputs + job.inputs.count > settings.queueDepth { purgeDeadJobs() }
            // An empty queue always takes a job, however big: a lone large call must not be refused.
            guard state.queuedInputs == 0 || state.queuedInputs + job.inputs.count <= settings.queueDepth else {
                return RPCError(.resourceExhausted,
                                "model '\(model)' has \(state.queuedInputs) inputs queued (batching.queue_depth \(settings.queueDepth)); retry later")
            }
            // Admission by deadline: a call that cannot start before its deadline is refused
            // now rather than answered DEADLINE_EXCEEDED after waiting for it in the queue (38
            // calls once waited their whole 60 s). The estimate is the measured compute time
            // per input times the inputs ahead of it, spread over the model's threads.
            if state.queuedInputs > 0 && state.nanosPerInput > 0 {
                let perInput = min(state.nanosPerInput, state.lastNanosPerInput)
                let ahead = UInt64(state.queuedInputs) * perInput / UInt64(max(1, settings.threadsPerModel))
                let now = Clock.monotonicNanoseconds()
                if now + ahead > job.deadline {
                    let left = job.deadline > now ? Double(job.deadline - now) / 1e9 : 0
                    return RPCError(.deadlineExceeded, "model '\(model)' has \(state.queuedInputs) inputs queued, about "
                                    + "\(Self.seconds(ahead)) of work ahead of this call, but its deadline is in \(Self.seconds(UInt64(left * 1e9))): "
                                    + "refused without waiting; retry later or with a longer deadline")
                }
            }
            state.jobs.append(job)
            state.queuedInputs += job.inputs.count
            if var r = state.returning[job.caller] {
                let back = Clock.monotonicNanoseconds() - r.answeredAt
                noteReturn(inTime: back < returnPatience())
                state.turnaround = (state.turnaround * 7 + min(back, delayNanos)) / 8
                r.calls -= 1
                state.returning[job.caller] = r.calls > 0 ? r : nil
            }
            lock.broadcast()
            return nil
        }
    }

    private static func seconds(_ nanos: UInt64) -> String {
        let s = Double(nanos) / 1e9
        return s < 1 ? "\(Int(s * 1000)) ms" : "\(Int(s * 10) / 10).\(Int(s * 10) % 10) s"
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

    /// Notes a plugin call's compute time and, for a multi-call batch, that its callers are
    /// about to be answered. Runs before the answers go out: a caller may be back before they
    /// have all been sent.
    private func expectBack(_ jobs: [EmbedJob], computedSince started: UInt64) {
        let now = Clock.monotonicNanoseconds()
        lock.withLock {
            state.lastBatchNanos = now - started
            let inputs = UInt64(max(1, jobs.reduce(0) { $0 + $1.inputs.count }))
            let perInput = state.lastBatchNanos / inputs
            state.nanosPerInput = state.nanosPerInput == 0 ? perInput : (state.nanosPerInput * 7 + perInput) / 8
            state.lastNanosPerInput = perInput
            guard jobs.count > 1 else { return }
            _ = returnDeadline(now: now)  // forget callers that never came back
            for job in jobs {
                state.returning[job.caller, default: (0, now)].calls += 1
                state.returning[job.caller]!.answeredAt = now
            }
        }
    }

    /// Restarts the return clock of the callers still expected once every answer of their batch
    /// is out: each answer is encoded and written on this thread, one after the other, and the
    /// last caller answered cannot be back sooner (measured from the first answer, bench/serve's
    /// 16 clients made batches of 11.5 on average; from the last, 14.6).
    private func answered(_ jobs: [EmbedJob]) {
        guard jobs.count > 1 else { return }
        let now = Clock.monotonicNanoseconds()
        lock.withLock {
            for job in jobs where state.returning[job.caller] != nil { state.returning[job.caller]!.answeredAt = now }
        }
    }

    private var delayNanos: UInt64 { UInt64(settings.maxDelayMilliseconds * 1_000_000) }

    /// How long after its answer a caller still counts as coming back. Call under the lock.
    private func returnWindow() -> UInt64 {
        min(delayNanos, 2 * state.turnaround + 200_000, state.lastBatchNanos / 8)
    }

    /// How long after its answer a caller counts as calling in a loop: within about one batch's
    /// compute time (the callers of the batch before came back meanwhile). Call under the lock.
    private func returnPatience() -> UInt64 { max(delayNanos, state.lastBatchNanos) }

    /// Counts one answered caller as back in time or not. Call under the lock.
    private func noteReturn(inTime: Bool) {
        state.returnRate = state.returnRate * 0.875 + (inTime ? 0.125 : 0)
    }

    /// When the last caller still waited for stops being waited for, or nil when none is;
    /// forgets (and counts as not back in time) the callers past `returnPatience`. Call under
    /// the lock.
    private func returnDeadline(now: UInt64) -> UInt64? {
        let window = returnWindow()
        let patience = returnPatience()
        var latest: UInt64? = nil
        for (caller, r) in state.returning {
            if r.answeredAt + patience <= now {
                state.returning[caller] = nil
                for _ in 0..<r.calls { noteReturn(inTime: false) }
            } else if r.answeredAt + window > now {
                latest = max(latest ?? 0, r.answeredAt + window)
            }
        }
        return latest
    }

    /// Takes the next batch: the first job plus whatever fits. When the batch is not full it
    /// waits for more while another worker's batch is computing (up to `max_delay` from the
    /// first job's arrival), or while callers of the last multi-call batch are expected back (up
    /// to `max_delay` from now; see the type's doc); otherwise it starts at once.
    private func nextBatch() -> [EmbedJob]? {
        let target = targetBatch()
        let delay = delayNanos
        return lock.withLock { () -> [EmbedJob]? in
            while state.jobs.isEmpty && !state.stopping { lock.wait() }
            if state.jobs.isEmpty { return nil }
            let idleSince = Clock.monotonicNanoseconds()
            while !state.stopping && delay > 0 && state.queuedInputs < target {
                let now = Clock.monotonicNanoseconds()
                let until: UInt64
                if state.running > 0 {
                    until = state.jobs[0].queuedAt + delay
                } else {
                    // The first job may have queued during the last batch: the bound runs from now.
                    // Only while most answered callers come back in time (closed loops).
                    guard let back = returnDeadline(now: now), state.returnRate >= 0.5 else { break }
                    until = min(idleSince + delay, back)
                }
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
        let segments = live.contains(where: \.segments)
        let result: EmbedBatch
        let started = Clock.monotonicNanoseconds()
        do {
            result = try timedEmbed(inputs, cancel: flag, segments: segments)
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
                    let alone = try timedEmbed(job.inputs, cancel: job.cancellation, segments: job.segments)
                    job.complete(.success(slice(alone, offset: 0, for: job)))
                } catch {
                    job.complete(.failure(RPCError(error)))
                }
            }
            return
        }
        expectBack(live, computedSince: started)
        var offset = 0
        for job in live {
            job.complete(.success(slice(result, offset: offset, for: job)))
            offset += job.inputs.count
        }
        answered(live)
    }

    /// One plugin call, timed: `longestRunningCall` sees it while it runs.
    private func timedEmbed(_ inputs: [EmbedInput], cancel: CancellationFlag?, segments: Bool) throws(PluginError) -> EmbedBatch {
        let token: UInt64 = lock.withLock {
            state.nextCallToken += 1
            state.callsStarted[state.nextCallToken] = Clock.monotonicNanoseconds()
            return state.nextCallToken
        }
        let started = Clock.monotonicNanoseconds()
        defer {
            let ended = Clock.monotonicNanoseconds()
            lock.withLock { _ = state.callsStarted.removeValue(forKey: token) }
            // Failed plugin calls too: a batch that fails after seconds cost those seconds.
            metrics.embedDuration.observe(ended > started ? ended - started : 0)
            metrics.batchSize.observe(UInt64(inputs.count))
        }
        return try host.embed(model: model, inputs: inputs, cancel: cancel, segments: segments)
    }

    /// How long the oldest plugin call in progress has been running at `now` (nanoseconds), or
    /// nil. A call that started after `now` was read counts as 0, not as a wrapped-around age.
    func longestRunningCall(now: UInt64) -> UInt64? {
        lock.withLock { state.callsStarted.values.min().map { now > $0 ? now - $0 : 0 } }
    }

    /// Rows `offset ..< offset + job.inputs.count` of a plugin call's result, for one job. A job
    /// that refuses truncation gets each text the model cut (or could not count) as a failure
    /// of that input alone: the cut happened inside a shared plugin call, so it is judged here.
    private func slice(_ result: EmbedBatch, offset: Int, for job: EmbedJob) -> BatchSlice {
        let d = result.dimension
        let n = job.inputs.count
        var failures = Array(result.failures[offset ..< offset + n])
        let usage = result.usage.isEmpty ? [TokenUsage](repeating: TokenUsage(), count: n)
                                         : Array(result.usage[offset ..< offset + n])
        if job.refuseTruncation {
            for i in 0..<n where failures[i] == nil {
                guard case .text = job.inputs[i] else { continue }
                let u = usage[i]
                if !u.isCounted {
                    failures[i] = InputFailure(code: .invalidInput,
                                               message: "model '\(model)' does not count tokens (its plugin does not report them), so truncation=off cannot be honoured")
                } else if u.truncated {
                    failures[i] = InputFailure(code: .invalidInput,
                                               message: "input has \(u.tokens) tokens; model '\(model)' takes \(u.used) and truncation is off (send it in parts, or allow truncation)")
                }
            }
        }
        var slice = BatchSlice(dimension: d, vectors: Array(result.vectors[offset * d ..< (offset + n) * d]),
                               failures: failures, usage: usage,
                               modelVersion: result.modelVersion, generation: result.generation,
                               embeddingSpace: result.embeddingSpace)
        if job.segments && !result.segments.isEmpty { slice.segments = Array(result.segments[offset ..< offset + n]) }
        return slice
    }
}
