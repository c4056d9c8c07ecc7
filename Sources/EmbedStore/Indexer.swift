import EmbedSys
import Synchronization

/// The background thread of one collection: links acknowledged records into the graph (until
/// then searches scan them exactly), repairs links into deleted records, re-links graph
/// regions that deletions cut off, and starts checkpoints when the log has grown or deleted
/// records have piled up.
///
/// Invariants behind `@unchecked Sendable`: the flags are guarded by `signal`; `thread` is set
/// once before any other thread sees this object and joined only by the collection's close,
/// abandon or deinit (one at a time); `checkpointRetryAt` is touched by the indexer thread only.
final class Indexer: @unchecked Sendable {
    private let signal = ConditionLock()
    private var stopping = false
    private var woken = false
    private var idle = true
    private var repairRequested = false
    /// An insertion found no live node by walking the graph: check reachability soon.
    private var relinkRequested = false
    private var thread: OSThread?
    /// Set by a commit leader whose write took the log past `checkpointLogBytes`; the indexer
    /// checkpoints before linking more (a flag, so its hot loop takes no lock to check).
    private let logPastLimit = Atomic<Bool>(false)
    /// Monotonic time before which background checkpoints are not retried.
    private var checkpointRetryAt: UInt64 = 0

    private let state: CollectionState
    private let commit: GroupCommit
    private let checkpointer: Checkpointer
    private let config: CollectionConfig
    private let options: OpenOptions
    private let name: String
    private let logger: StoreLogger

    init(state: CollectionState, commit: GroupCommit, checkpointer: Checkpointer, config: CollectionConfig,
         options: OpenOptions, name: String, logger: @escaping StoreLogger) {
        self.state = state
        self.commit = commit
        self.checkpointer = checkpointer
        self.config = config
        self.options = options
        self.name = name
        self.logger = logger
    }

    /// Starts the thread; it holds this object until `stop()` ends it.
    func start() throws(Errno) {
        thread = try OSThread { [self] in loop() }
    }

    /// Ends the thread and waits for it (the current step finishes first).
    func stop() {
        signal.withLock { stopping = true; signal.broadcast() }
        thread?.join()
    }

    /// Wakes the thread; `checkpointDue` when a write took the log past its limit.
    func wake(checkpointDue: Bool) {
        if checkpointDue { logPastLimit.store(true, ordering: .relaxed) }
        signal.withLock {
            woken = true
            signal.broadcast()
        }
    }

    /// Waits while too many acknowledged records are not yet indexed (writers, before queueing).
    func throttle() {
        while state.lock.withReadLock({ state.unindexed > options.maxUnindexed && state.failure == nil && state.writeFailure == nil }) {
            wake(checkpointDue: false)
            ChildProcess.sleep(seconds: 0.001)
        }
    }

    /// Blocks until every acknowledged record is linked and pending delete repairs are done.
    func waitUntilIdle() throws(StoreError) {
        signal.withLock { repairRequested = true; woken = true; signal.broadcast() }
        while true {
            let done = signal.withLock { idle && !woken && !repairRequested }
            if try state.lock.withReadLock({ () throws(StoreError) -> Bool in
                if let failure = state.failure { throw failure }
                return done && state.pendingHead == state.pending.count
            }) { return }
            ChildProcess.sleep(seconds: 0.002)
        }
    }

    private func loop() {
        let scratch = SearchScratch(nodeCount: 0)
        while true {
            let stop = signal.withLock { () -> Bool in
                while !stopping && !woken { idle = true; signal.wait(seconds: 0.5); break }
                idle = false
                woken = false
                return stopping
            }
            if stop { break }
            while !signal.withLock({ stopping }) {
                do {
                    if try !step(scratch: scratch) { break }
                } catch {
                    if checkpointer.snapshotWriteFailed.exchange(false, ordering: .relaxed) {
                        logger(.error, "\(name): checkpoint failed, still serving from the log; retrying in 10 s: \(error)")
                        checkpointRetryAt = Clock.monotonicNanoseconds() + 10_000_000_000
                        continue
                    }
                    logger(.error, "\(name): indexing stopped: \(error)")
                    state.fail(error)
                    break
                }
            }
            signal.withLock { idle = true }
        }
        signal.withLock { idle = true }
    }

    /// Whether writes are refused until the collection is reopened (see `writeFailure`).
    private var writesRefused: Bool { state.lock.withReadLock { state.writeFailure != nil } }

    /// Does one unit of background work; returns false when there was none.
    private func step(scratch: SearchScratch) throws(StoreError) -> Bool {
        if state.lock.withReadLock({ state.failure != nil }) { return false }
        state.stepAsideForAppliers()
        // 0. A log past its limit is checkpointed before any more linking: under a write load
        //    the indexer never catches up with, waiting for an idle moment would let the log
        //    (and the replay after a crash) grow without bound. Unindexed records are saved
        //    as such in the snapshot.
        //    Not while the background verifier still reads the snapshot (a checkpoint waits for
        //    it, and holding leadership meanwhile would stop every writer): retried later.
        if checkpointer.verifying || Clock.monotonicNanoseconds() < checkpointRetryAt {
            // fall through: link records meanwhile
        } else if !writesRefused, logPastLimit.exchange(false, ordering: .relaxed) {
            try commit.lead()
            defer { commit.unlead() }
            if commit.walSize > options.checkpointLogBytes {  // not done meanwhile
                try state.gate.withLock { () throws(StoreError) in try checkpointer.checkpointLocked() }
            }
            return true
        }
        // 1. Link the oldest unindexed record.
        let linked = try state.gate.withLock { () throws(StoreError) -> Bool in
            let next = state.lock.withReadLock { () -> (UInt32, Bool)? in
                guard state.pendingHead < state.pending.count else { return nil }
                let id = state.pending[state.pendingHead]
                return (id, state.store.isDeleted(id))
            }
            guard let (id, deleted) = next else { return false }
            // Planned without the shared lock (see `CollectionState`): searches and writers
            // proceed while the indexer searches the graph.
            let plan = deleted ? nil : HNSW.planInsert(state.store, id: id, level: state.rng.level(m: config.hnsw.m),
                                                       efConstruction: config.hnsw.efConstruction, scratch: scratch)
            if plan?.scanned == true { signal.withLock { relinkRequested = true } }
            try state.lock.withWriteLock { () throws(StoreError) in
                if let plan { try HNSW.apply(state.store, plan) }
                state.pendingHead += 1
                if state.pendingHead >= 4096 && state.pendingHead * 2 >= state.pending.count {
                    state.pending.removeFirst(state.pendingHead)
                    state.pendingHead = 0
                }
                if state.pendingHead == state.pending.count {
                    state.pending.removeAll(keepingCapacity: false)
                    state.pendingHead = 0
                }
            }
            return true
        }
        if linked { return true }
        // 2. Repair links into deleted nodes once enough have accumulated (or when asked).
        // Counts and generation read together under `gate`: a compaction between them would
        // leave a node count of the old numbering paired with the new generation.
        let (deletedNow, nodes, generationNow) = state.gate.withLock {
            state.lock.withReadLock { (state.deletedSinceRepair, state.store.count, state.generation) }
        }
        let asked = signal.withLock { () -> Bool in defer { repairRequested = false }; return repairRequested }
        if deletedNow > 0 && (asked || deletedNow * 50 >= nodes) {
            try repairDeleted(upTo: nodes, accounted: deletedNow, generation: generationNow)
            return true
        }
        if signal.withLock({ () -> Bool in defer { relinkRequested = false }; return relinkRequested }) {
            state.gate.withLock { state.lock.withWriteLock { HNSW.fixEntryPoint(state.store) } }
            try relinkUnreachable()
            return true
        }
        // 3. Checkpoint when the log has grown large (also a log replayed at open), or to
        //    compact when deleted records have piled up.
        if (commit.walSize > options.checkpointLogBytes || checkpointer.compactionDue) && !checkpointer.verifying && !writesRefused
            && Clock.monotonicNanoseconds() >= checkpointRetryAt {
            try commit.lead()
            defer { commit.unlead() }
            try state.gate.withLock { () throws(StoreError) in try checkpointer.checkpointLocked() }
            return true
        }
        return false
    }

    /// Repairs the link lists of nodes below `nodes` in chunks (`gate` taken per chunk, so
    /// writers that must grow memory get in between), then fixes the entry point and re-links
    /// what the repair cut off. Stops when a compaction renumbered the nodes meanwhile.
    private func repairDeleted(upTo nodes: Int, accounted: Int, generation started: Int) throws(StoreError) {
        let chunk = 1024
        var start = 0
        while start < nodes {
            state.stepAsideForAppliers()
            let renumbered = state.gate.withLock { () -> Bool in
                if state.generation != started { return true }  // a compaction did the repair
                let store = state.store
                let updates = HNSW.planRepair(store, range: start..<min(start + chunk, nodes))
                state.lock.withWriteLock { for (id, l, list) in updates { store.setLinks(id, level: l, list) } }
                return false
            }
            if renumbered { return }
            start += chunk
        }
        let renumbered = state.gate.withLock { () -> Bool in
            if state.generation != started { return true }
            state.lock.withWriteLock {
                HNSW.fixEntryPoint(state.store)
                state.deletedSinceRepair -= accounted
            }
            return false
        }
        if !renumbered { try relinkUnreachable() }
    }

    /// Re-inserts live nodes that layer 0 no longer reaches from the entry point (a node whose
    /// in-links all came through deleted nodes can lose them all in a repair), so an indexed
    /// record is always findable. One walk of the graph, then one insertion per stranded
    /// island, each under `gate` of its own.
    private func relinkUnreachable() throws(StoreError) {
        let (store, started, reachedAtStart) = state.gate.withLock { () -> (NodeStore, Int, [Bool]) in
            state.lock.withReadLock { (state.store, state.generation, HNSW.reachableFromEntry(state.store)) }
        }
        var reached = reachedAtStart
        let relinked = try HNSW.relinkStranded(store, reached: &reached, efConstruction: config.hnsw.efConstruction,
                                               scratch: SearchScratch(nodeCount: 0)) { relink throws(StoreError) -> Bool in
            state.stepAsideForAppliers()
            return try state.gate.withLock { () throws(StoreError) -> Bool in
                // A compaction renumbered the nodes (and re-linked its own copy): stop.
                guard state.generation == started else { return false }
                try relink()
                return true
            }
        } apply: { plan throws(StoreError) in
            try state.lock.withWriteLock { () throws(StoreError) in try HNSW.apply(store, plan, assignLevel: false) }
        }
        if relinked > 0 { logger(.info, "\(name): re-linked \(relinked) graph regions that deletions had cut off") }
    }
}
