import EmbedSys
import Synchronization

/// Checkpoints and compaction of one collection: writes the snapshot file (a compacted copy,
/// renumbered, when deleted records have piled up or `optimize` asks), empties the log behind
/// it, and keeps the background verifier of the snapshot opened from disk.
///
/// Every checkpoint runs with log leadership and `gate` held, so nothing mutates during it;
/// searches go on under the shared lock until a compaction swaps the store in.
///
/// Invariants behind `@unchecked Sendable`: `verificationPending` is guarded by `verification`;
/// `verifierThread` is set once before any other thread sees this object and joined once (by
/// `join`, from the collection's close, abandon or deinit, which run one at a time); the
/// flags are atomics.
final class Checkpointer: @unchecked Sendable {
    /// True while the background verifier reads the snapshot (guarded by `verification`): a
    /// checkpoint waits for it, or it could copy damage it has not found yet into a new
    /// snapshot with fresh checksums.
    private var verificationPending = false
    private let verification = ConditionLock()
    private var verifierThread: OSThread?
    /// The next checkpoint compacts whatever the deleted count (see `optimize`).
    let compactionRequested = Atomic<Bool>(false)
    /// Set when a checkpoint failed while writing its snapshot file (disk full, I/O error):
    /// nothing changed then — the old snapshot and the whole log still hold every write — so
    /// the collection keeps serving and background checkpoints retry after a pause.
    let snapshotWriteFailed = Atomic<Bool>(false)

    private let state: CollectionState
    private let commit: GroupCommit
    private let mirrors: MirrorLog
    private let config: CollectionConfig
    private let options: OpenOptions
    private let directory: String
    private let name: String
    private let logger: StoreLogger

    init(state: CollectionState, commit: GroupCommit, mirrors: MirrorLog, config: CollectionConfig, options: OpenOptions, directory: String,
         name: String, logger: @escaping StoreLogger) {
        self.state = state
        self.commit = commit
        self.mirrors = mirrors
        self.config = config
        self.options = options
        self.directory = directory
        self.name = name
        self.logger = logger
    }

    /// A snapshot file mapped: the node arrays and key table straight from it (copy-on-write).
    typealias Loaded = (store: NodeStore, keys: KeyIndex, pending: [UInt32], mapped: SnapshotFile.Mapped)

    /// Maps a snapshot file (at open, and after a compaction).
    static func load(snapshot path: String, config: CollectionConfig, verify: Bool) throws(StoreError) -> Loaded {
        let s = try SnapshotFile.open(path: path, expected: config)
        if verify { try SnapshotFile.verifySections(s) }
        let store: NodeStore
        let keys: KeyIndex
        do {
            store = try NodeStore(dimension: config.dimension, metric: config.metric, m: config.hnsw.m, storage: config.storage, snapshot: s)
            let table = s.section(.keyTable)
            let region = try MappedRegion(capacity: Int(table.length), file: s.descriptor, offset: table.offset, length: Int(table.length))
            keys = KeyIndex(region: region, slots: s.header.keySlots)
        } catch {
            throw StoreError.io(path: path, operation: "mmap", errno: error)
        }
        if let e = store.entryPoint, store.level(e) != store.maxLevel || !store.hasLinks(e, level: store.maxLevel) {
            throw StoreError.corrupt(file: path, detail: "entry point \(e) does not have the header's level \(store.maxLevel)")
        }
        let pendingBytes = try s.read(.pending)
        let pending = pendingBytes.withUnsafeBytes { raw in
            (0..<s.header.pendingCount).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self) }
        }
        guard pending.allSatisfy({ Int($0) < s.nodeCount }) else {
            throw StoreError.corrupt(file: path, detail: "pending list names nodes beyond the node count")
        }
        return (store, keys, pending, s)
    }

    // MARK: Background verification

    /// Marks the snapshot as being verified (before the indexer can start a checkpoint).
    func expectVerification() { verification.withLock { verificationPending = true } }

    /// Reads every section of `snapshot` on a thread of its own; damage found puts the
    /// collection into the failed state.
    func startVerifier(_ snapshot: SnapshotFile.Mapped) throws(Errno) {
        // Holds this object until the thread ends (the collection joins it before going away).
        verifierThread = try OSThread { [self] in
            do throws(StoreError) { try SnapshotFile.verifySections(snapshot) } catch {
                logger(.error, "\(name): \(error); the collection is failed until repaired")
                state.fail(error)
            }
            verification.withLock { verificationPending = false; verification.broadcast() }
        }
    }

    /// Waits for the verifier thread to end (at most once).
    func join() {
        verifierThread?.join()
    }

    /// Whether the background verifier still reads the snapshot.
    var verifying: Bool { verification.withLock { verificationPending } }

    /// Waits until the background verifier has read the snapshot (at once without one).
    func awaitVerification() { verification.withLock { while verificationPending { verification.wait() } } }

    // MARK: Checkpoint (log leadership and `gate` held: no mutator runs)

    /// Whether deleted records are worth reclaiming (see `OpenOptions.compactionMinDeleted`).
    var compactionDue: Bool {
        state.lock.withReadLock {
            state.deletedCount >= options.compactionMinDeleted
                && Double(state.deletedCount) >= options.compactionDeletedFraction * Double(state.store.count)
        }
    }

    /// Writes the snapshot and empties the log. When deleted records have piled up, the
    /// snapshot is a compacted copy without them and the collection continues from it
    /// (`reload`; false when closing).
    /// - Complexity: O(n · d) to write n nodes; a compaction adds a repair pass over every
    ///   node, the copy, and re-insertion of what the copy left unreachable.
    func checkpointLocked(reload: Bool = true) throws(StoreError) {
        awaitVerification()
        if let failure = state.anyFailure { throw failure }
        let seq = commit.positions.durable
        let started = ContinuousClock.now
        let path = directory + "/index.snap"
        let store = state.store
        let before = store.count
        let requested = compactionRequested.exchange(false, ordering: .relaxed)
        let compact = compactionDue || requested
        if compact {
            let (image, pendingIDs, live) = try compactedImage()
            do { try writeSnapshot(image, pending: pendingIDs, liveCount: live, deletedCount: 0, seq: seq, path: path) } catch {
                snapshotWriteFailed.store(true, ordering: .relaxed)
                throw error
            }
        } else {
            do {
                try writeSnapshot(store, pending: Array(state.pending[state.pendingHead...]), liveCount: state.liveCount,
                                  deletedCount: state.deletedCount, seq: seq, path: path)
            } catch {
                snapshotWriteFailed.store(true, ordering: .relaxed)
                throw error
            }
        }
        // Mirrors behind this checkpoint keep the log they still need (retained segments,
        // written before the log is emptied: a crash between leaves both, read as one).
        do throws(StoreError) {
            try mirrors.checkpoint(wal: commit.wal, seq: seq) { () throws(StoreError) in
                do throws(StoreError) { try commit.wal.reset(baseSeq: seq) } catch {
                    state.fail(.failed("\(error)"))
                    throw error
                }
            }
        } catch {
            if state.anyFailure == nil { snapshotWriteFailed.store(true, ordering: .relaxed) }
            throw error
        }
        commit.checkpointed(at: seq)
        if compact && reload {
            // Continue from the compacted file, exactly as a reopen would.
            let loaded: Loaded
            do { loaded = try Checkpointer.load(snapshot: path, config: config, verify: false) } catch {
                logger(.error, "\(name): reloading the compacted snapshot failed: \(error); the collection is failed until reopened")
                state.fail(error)
                throw error
            }
            state.lock.withWriteLock {
                state.store = loaded.store
                state.keys = loaded.keys
                state.pending = loaded.pending
                state.pendingHead = 0
                state.deletedCount = 0
                state.deletedSinceRepair = 0
                state.snapshot = loaded.mapped
                state.snapshotBytes = loaded.mapped.fileSize
                state.generation += 1
            }
        } else if !compact {
            state.lock.withWriteLock { state.snapshotBytes = Int64(SnapshotFile.headerSize) + Int64(store.count * store.stride) }
        }
        let nodes = compact ? "\(before) → \(state.lock.withReadLock { state.store.count }) nodes (compacted\(requested ? " on request" : ""))" : "\(before) nodes"
        logger(.info, "\(name): checkpoint at sequence \(seq): \(nodes) in \(ContinuousClock.now - started)")
    }

    /// The current contents without deleted records: repairs links into them first, copies the
    /// rest renumbered, and re-links anything the copy left unreachable. Returns the image, its
    /// pending (unindexed) nodes and its live count.
    private func compactedImage() throws(StoreError) -> (NodeStore, [UInt32], Int) {
        let store = state.store
        let nodes = store.count
        var start = 0
        while start < nodes {
            let updates = HNSW.planRepair(store, range: start..<min(start + 1024, nodes))
            state.lock.withWriteLock { for (id, l, list) in updates { store.setLinks(id, level: l, list) } }
            start += 1024
        }
        state.lock.withWriteLock { HNSW.fixEntryPoint(store) }
        let image: NodeStore, newID: [UInt32?]
        do { (image, newID) = try store.compacted() } catch {
            throw StoreError.io(path: directory, operation: "compact (mmap)", errno: error)
        }
        let pendingIDs = state.pending[state.pendingHead...].compactMap { newID[Int($0)] }
        // Paths that only ran through deleted nodes are gone: re-insert what they stranded.
        // The image is private until written: no locks.
        var reached = HNSW.reachableFromEntry(image)
        _ = try HNSW.relinkStranded(image, reached: &reached, efConstruction: config.hnsw.efConstruction,
                                    scratch: SearchScratch(nodeCount: 0)) { plan throws(StoreError) in
            try HNSW.apply(image, plan, assignLevel: false)
        }
        return (image, pendingIDs, image.count)
    }

    private func writeSnapshot(_ s: NodeStore, pending pendingIDs: [UInt32], liveCount live: Int, deletedCount deleted: Int,
                               seq: UInt64, path: String) throws(StoreError) {
        let table = KeyIndex.buildTable(store: s, liveCount: live)
        let header = SnapshotFile.Header(
            dimension: config.dimension, metric: config.metric, storage: config.storage, m: config.hnsw.m, stride: s.stride,
            nodeCount: s.count, liveCount: live, deletedCount: deleted, entryPoint: s.entryPoint,
            maxLevel: s.maxLevel, walSeq: seq, rngState: state.rng.state, upperWords: s.upperUsed, heapBytes: s.heapUsed,
            keySlots: table.count, pendingCount: pendingIDs.count, normBound2: s.normBound2)
        try withBytes(of: table) { tableBytes throws(StoreError) in
            try withBytes(of: pendingIDs) { pendingBytes throws(StoreError) in
                try SnapshotFile.write(path: path, directory: directory, header: header, sections: [
                    (.nodes, UnsafeRawBufferPointer(start: s.nodes.base, count: s.count * s.stride)),
                    (.upper, UnsafeRawBufferPointer(start: s.upper.base, count: s.upperUsed * 4)),
                    (.records, UnsafeRawBufferPointer(start: s.records.base, count: s.count * NodeStore.recordBytes)),
                    (.heap, UnsafeRawBufferPointer(start: s.heap.base, count: s.heapUsed)),
                    (.keyTable, tableBytes),
                    (.pending, pendingBytes),
                ])
            }
        }
    }
}
