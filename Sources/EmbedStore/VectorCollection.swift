import EmbedSys

/// One open collection: records with vectors and metadata, an HNSW index, and the files that
/// make them durable (`collection.meta`, `wal.log`, `index.snap` in its directory).
///
/// Concurrency: any number of threads may call `search`/`get`/`count`/`stats` while others
/// call `upsert`/`delete`. Writes are acknowledged once their log record is fsync'd; writers
/// arriving during an fsync share the next one (group commit). Searches take a shared lock
/// that mutations hold only for memory updates — never across an fsync or a graph search.
/// New records are linked into the graph by a background thread; until then searches scan
/// them exactly, so a write is visible to searches as soon as it is acknowledged.
///
/// The collection composes five parts, each owning its lock and state:
///
/// | part | owns | lock |
/// |---|---|---|
/// | `CollectionState` | nodes, keys, pending list, counts, failure | `lock` (shared/exclusive), `gate` (single mutator) |
/// | `GroupCommit` | the log, the writers' queue, sequence numbers, log leadership | its mutex (+ leadership, a flag under it) |
/// | `Indexer` | the background thread, its wake-up and request flags | its mutex |
/// | `Checkpointer` | snapshot writing, compaction, the background verifier | its mutex (verification) |
/// | `Searcher` | the query path and its scratch pool | its mutex (scratch pool) |
///
/// Lock order — a thread holding one may take only those after it, never one before:
///
/// 1. log leadership (`GroupCommit.lead`, held across an fsync or a whole checkpoint),
/// 2. `CollectionState.gate`,
/// 3. `GroupCommit`'s mutex (its waits — for leadership, for durability — release it),
/// 4. `CollectionState.lock`,
/// 5. the leaves: `Indexer`'s, `Checkpointer`'s and `Searcher`'s mutexes (nothing is taken
///    under them).
///
/// A commit leader takes `gate` only when memory must grow, a checkpoint takes leadership and
/// then `gate`; the indexer takes `gate` per step and leadership only outside it. Writers
/// waiting in the queue check the state's failure under `GroupCommit`'s mutex (3 → 4).
/// Checkpoints wait for the verifier while holding 1 and 2; the verifier takes only 4 and its
/// own mutex, so it always finishes.
public final class VectorCollection: Sendable {
    /// The collection's name.
    public let name: String
    /// Its configuration (fixed at creation).
    public let config: CollectionConfig
    /// Its directory.
    public let directory: String

    let options: OpenOptions
    let logger: StoreLogger

    let state: CollectionState
    let commit: GroupCommit
    /// Mirrors' cursors and the log retained for them (VectorCollection+Mirror.swift).
    let mirrors: MirrorLog
    private let checkpointer: Checkpointer
    private let indexer: Indexer
    let searcher: Searcher  // internal: tests ask it for its filter estimates

    static let maxKeyBytes = 1024
    static let maxMetadataBytes = 64 * 1024
    /// The largest document a record may carry (1 MiB).
    public static let maxDocumentBytes = 1 << 20

    // MARK: Opening

    /// Opens the collection in `directory` (use `StoreCatalog`, which also creates them).
    /// - Complexity: O(1) in the snapshot's size (it is mapped, and verified in the background
    ///   by default), plus replaying the log written since it.
    init(directory: String, options: OpenOptions, logger: @escaping StoreLogger) throws(StoreError) {
        self.directory = directory
        self.options = options
        self.logger = logger
        let metaPath = directory + "/collection.meta"
        let metaBytes = try io(metaPath, "read") { () throws(Errno) in try FileSystem.readFile(metaPath, limit: 4096) }
        let (name, config) = try CollectionMeta.decode(metaBytes, path: metaPath)
        self.name = name
        self.config = config
        let fileLock: FileLock
        do { fileLock = try FileLock(path: directory + "/LOCK") } catch {
            if error == .wouldBlock || error == .permissionDenied { throw StoreError.collectionLocked(directory) }
            throw StoreError.io(path: directory + "/LOCK", operation: "lock", errno: error)
        }
        let snapPath = directory + "/index.snap"
        try? FileSystem.unlink(snapPath + ".tmp")  // a checkpoint that died before its rename
        var snapSeq: UInt64 = 0
        let hasSnapshot = FileSystem.exists(snapPath)
        let state: CollectionState
        if hasSnapshot {
            let loaded = try Checkpointer.load(snapshot: snapPath, config: config, verify: options.verification == .full)
            state = CollectionState(store: loaded.store, keys: loaded.keys, pending: loaded.pending,
                                    rng: SplitMix64(seed: loaded.mapped.header.rngState), directory: directory)
            state.liveCount = loaded.mapped.header.liveCount
            state.deletedCount = loaded.mapped.header.deletedCount
            snapSeq = loaded.mapped.header.walSeq
            state.snapshot = loaded.mapped
            state.snapshotBytes = loaded.mapped.fileSize
        } else {
            let store: NodeStore
            do { store = try NodeStore(dimension: config.dimension, metric: config.metric, m: config.hnsw.m, storage: config.storage) } catch {
                throw StoreError.io(path: directory, operation: "mmap", errno: error)
            }
            state = CollectionState(store: store, keys: KeyIndex(), pending: [], rng: SplitMix64(seed: options.seed), directory: directory)
        }
        var lastSeq = snapSeq
        var replayed = 0
        let walPath = directory + "/wal.log"
        var ops: [WriteOperation] = []
        let wal = try WriteAheadLog.open(path: walPath, afterSeq: snapSeq, log: logger) { entry throws(StoreError) in
            guard entry.seq > snapSeq else { return }
            guard let op = WriteOperation.decode(entry, dimension: config.dimension, metric: config.metric, storage: config.storage) else {
                throw StoreError.corrupt(file: walPath, detail: "record \(entry.seq) has a valid checksum but cannot be decoded")
            }
            lastSeq = entry.seq
            replayed += 1
            ops.append(op)
        }
        try LogCoverage.check(snapshotPath: snapPath, snapshotSeq: hasSnapshot ? snapSeq : nil, logPath: walPath,
                              logBase: wal.baseSeq, firstSeq: wal.firstSeq)
        // Replay is idempotent: upserts replace by key, deletes of absent keys do nothing.
        for op in ops { _ = try state.apply(op) }
        if replayed > 0 { logger(.info, "\(name): replayed \(replayed) log records after sequence \(snapSeq)") }
        self.state = state
        mirrors = try MirrorLog(directory: directory, walFloor: min(wal.baseSeq ?? snapSeq, (wal.firstSeq ?? UInt64.max) &- 1),
                                options: options, name: name, logger: logger)
        commit = GroupCommit(wal: wal, lastSeq: lastSeq, checkpointSeq: snapSeq, fileLock: fileLock, state: state,
                             name: name, logger: logger, syncObserver: options.logSyncObserver)
        checkpointer = Checkpointer(state: state, commit: commit, mirrors: mirrors, config: config, options: options, directory: directory,
                                    name: name, logger: logger)
        indexer = Indexer(state: state, commit: commit, checkpointer: checkpointer, config: config, options: options,
                          name: name, logger: logger)
        searcher = Searcher(state: state, config: config, options: options, name: name)
        do {
            // The verifier is expected before the indexer runs (a checkpoint waits for it).
            let verify = options.verification == .background ? state.snapshot : nil
            if verify != nil { checkpointer.expectVerification() }
            try indexer.start()
            if let verify { try checkpointer.startVerifier(verify) }
        } catch {
            throw StoreError.io(path: directory, operation: "pthread_create", errno: error)
        }
    }

    deinit {
        indexer.stop()
        checkpointer.join()
    }

    // MARK: Public API

    /// Inserts or replaces records by key. Returns once their log record is durable (fsync'd);
    /// a search issued after that sees them.
    /// - Complexity: O(r · d) to validate and encode r records of dimension d, one fsync
    ///   (shared with concurrent writers), and an amortised O(1) key update per record. Linking
    ///   into the graph happens later, in the background (about O(log n · efConstruction · M · d)
    ///   per record, see `HNSW.planInsert`).
    /// - Throws: `StoreError.invalidArgument` naming the first bad record (nothing is written),
    ///   `.io` with `isOutOfSpace` when the disk is full (nothing is written; a later call may
    ///   succeed once space is freed), `.failed` after an unrecoverable I/O error, `.closed`
    ///   after `close()`.
    public func upsert(_ records: [Record]) throws(StoreError) {
        if records.isEmpty { return }
        var norms = [Float]()
        norms.reserveCapacity(records.count)
        var w = ByteWriter(capacity: records.count * (config.dimension * 4 + 64))
        w.u32(UInt32(records.count))
        for r in records {
            norms.append(try validate(r))
            w.blob(Array(r.key.utf8))
            w.blob(RecordPayload.encode(metadata: r.metadata, document: r.document))
            w.f32s(r.vector)
        }
        try checkLogRecordSize(w.bytes.count, "upsert of \(records.count) records")
        indexer.throttle()
        _ = try submit(GroupCommit.Waiter(type: .upsert, payload: w.bytes, op: .upsert(records, norms)))
    }

    /// Deletes records by key; returns how many existed. Durable when it returns.
    /// - Complexity: O(k) key lookups and one fsync (shared with concurrent writers) for k
    ///   keys; a delete only marks records. Links into them are repaired in the background
    ///   once deletions reach 2 % of the nodes (`HNSW.planRepair`), and their space is
    ///   reclaimed by a compacting checkpoint.
    @discardableResult
    public func delete(_ keys: [String]) throws(StoreError) -> Int {
        if keys.isEmpty { return 0 }
        for k in keys { try validateKey(k) }
        // Only keys stored now are logged (once each): a delete of keys that are not there
        // changes nothing and writes no record (it once wrote 66 MB of log for 3M absent keys).
        // A concurrent upsert of one of them is ordered as if it came after this delete.
        let present: [String] = try state.lock.withReadLock { () throws(StoreError) -> [String] in
            if let failure = state.failure { throw failure }
            let store = state.store
            var seen = Set<String>()
            return keys.filter { k in
                guard seen.insert(k).inserted, let id = state.keys.lookup(k, in: store), Int(id) < store.count else { return false }
                return !store.isDeleted(id)
            }
        }
        if present.isEmpty { return 0 }
        var w = ByteWriter()
        w.u32(UInt32(present.count))
        for k in present { w.blob(Array(k.utf8)) }
        try checkLogRecordSize(w.bytes.count, "delete of \(present.count) keys")
        return try submit(GroupCommit.Waiter(type: .delete, payload: w.bytes, op: .delete(present)))
    }

    /// Makes a write durable and applied; wakes the indexer after each batch this call leads.
    private func submit(_ w: GroupCommit.Waiter) throws(StoreError) -> Int {
        try commit.submit(w) { walBytes, batch, records in
            if mirrors.active.load(ordering: .relaxed) { mirrors.noteCommit(first: batch.lowerBound, last: batch.upperBound, records: records) }
            indexer.wake(checkpointDue: walBytes > options.checkpointLogBytes)
        }
    }

    /// The record stored under `key`, or nil.
    public func get(_ key: String) throws(StoreError) -> Record? {
        try state.lock.withReadLock { () throws(StoreError) -> Record? in
            if let failure = state.failure { throw failure }
            let store = state.store
            guard let id = state.keys.lookup(key, in: store), Int(id) < store.count, !store.isDeleted(id) else { return nil }
            return Record(key: key, vector: store.decodedVector(id), metadata: store.metadata(id), document: store.document(id))
        }
    }

    /// Live records.
    public var count: Int { state.lock.withReadLock { state.liveCount } }

    /// The `k` records nearest to `query`, best first, with scores in the metric's natural form.
    ///
    /// - Parameters:
    ///   - ef: search breadth (default: the collection's `ef`; at least `k` is used). Larger is
    ///     slower and more accurate.
    ///   - filter: only records whose metadata matches are returned. Applied during the graph
    ///     walk; when few records match, an exact scan is used instead, so `k` results come
    ///     back whenever `k` records match.
    ///   - resultBytesLimit: throws `.resultTooLarge` instead of materialising hits whose keys
    ///     and metadata (plus 24 bytes of framing per hit) would exceed this many bytes — a
    ///   server's bound on its reply (k up to 100 000 × metadata up to 64 KiB each).
    /// - Complexity: about O(log n · M · d + ef · M · d') for n indexed records of dimension d
    ///   (d' the bytes of a code, d/4 with quantised search), plus O(u · d) for u records not
    ///   yet indexed, plus O(k · d) to re-rank. O(n · d) when it falls back to an exact scan:
    ///   k at least the live count, a filter matching under 1 % of a sample, or a graph region
    ///   cut off by deletions.
    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: MetadataFilter? = nil,
                       resultBytesLimit: Int = .max) throws(StoreError) -> [SearchHit] {
        try searcher.search(query, k: k, ef: ef, filter: filter, resultBytesLimit: resultBytesLimit)
    }

    /// `search` without a filter, only if it can start at once and stays short: nil (nothing
    /// returned) when a writer holds or waits for the collection (a compaction's reload, a
    /// growth copying the node array), when more than `maxUnindexed` records await the
    /// indexer (each is compared exactly), or when the answer needs an exact scan of more than
    /// `maxUnindexed` nodes (k at least the live count, or a graph region cut off by
    /// deletions). For a caller that must not block, such as a server's event loop: on nil it
    /// hands the search to a thread that may wait.
    /// - Complexity: as `search`, with the exact parts bounded by `maxUnindexed`.
    public func searchIfQuick(_ query: [Float], k: Int, ef: Int? = nil, maxUnindexed: Int = 1024,
                              resultBytesLimit: Int = .max) throws(StoreError) -> [SearchHit]? {
        try searcher.searchIfQuick(query, k: k, ef: ef, maxUnindexed: maxUnindexed, resultBytesLimit: resultBytesLimit)
    }

    /// Tests: runs `body` holding the collection as a writer does.
    func withExclusiveStateForTesting(_ body: () -> Void) { state.lock.withWriteLock(body) }

    /// Tests: runs `body` while the indexer cannot take its next step (it needs `gate`);
    /// writes that need no growth still commit, and stay unindexed.
    func withIndexerHeldForTesting(_ body: () throws -> Void) rethrows { try state.gate.withLock { try body() } }

    /// Sizes and state.
    public func stats() -> CollectionStats {
        let (last, cp, walBytes) = commit.positions
        return state.lock.withReadLock {
            let store = state.store
            return CollectionStats(name: name, config: config, count: state.liveCount, deleted: state.deletedCount,
                                   unindexed: state.unindexed, nodes: store.count, maxLevel: store.maxLevel,
                                   walBytes: walBytes, snapshotBytes: state.snapshotBytes,
                                   memoryBytes: store.count * (store.stride + NodeStore.recordBytes) + store.upperUsed * 4 + store.heapUsed,
                                   lastSequence: last, checkpointSequence: cp)
        }
    }

    /// Blocks until every acknowledged record is linked into the graph and pending delete
    /// repairs are done (useful before measuring, and in tests).
    public func waitForIndexing() throws(StoreError) { try indexer.waitUntilIdle() }

    /// Writes a checkpoint now: the snapshot file replaces the old one and the log is emptied.
    /// Searches continue meanwhile; writers wait until it is done.
    public func checkpoint() throws(StoreError) {
        checkpointer.awaitVerification()  // before leadership: writers keep going while the verifier reads
        try commit.lead()
        defer { commit.unlead() }
        do { try state.gate.withLock { () throws(StoreError) in try checkpointer.checkpointLocked() } } catch {
            checkpointer.snapshotWriteFailed.store(false, ordering: .relaxed)  // the caller has the error; the indexer must not see it
            throw error
        }
    }

    /// Checkpoints through a compaction even if few records are deleted: deleted records are
    /// dropped and the nodes renumbered in breadth-first order of the graph, so that a node's
    /// neighbour list spans fewer pages (bench/NOTES.md: +5–10 % QPS on a collection
    /// built in insertion order). Costs a full copy of the collection; writers wait for it as
    /// for any checkpoint, searches do not.
    public func optimize() throws(StoreError) {
        checkpointer.compactionRequested.store(true, ordering: .relaxed)
        try checkpoint()
    }

    /// Why the collection refuses calls (damage found, closed), or nil.
    public var failureReason: StoreError? { state.lock.withReadLock { state.failure } }

    /// Why the collection refuses writes until it is reopened (a failed `fdatasync` or
    /// `write` other than for lack of space) while reads go on, or nil. A full disk is not
    /// such a state: those writes fail alone, and later ones succeed once space is freed.
    public var writeFailureReason: StoreError? { state.lock.withReadLock { state.writeFailure } }

    /// Stops everything without a checkpoint (the collection is being dropped). Waits for the
    /// log's current leader — a group commit or a checkpoint/optimize writing files by path —
    /// and keeps leadership, so nothing writes into the directory once it is renamed away (a
    /// name dropped and created again would otherwise receive the old collection's snapshot).
    /// Writers still queued fail with `.closed`.
    func abandon() {
        commit.closeAndKeepLeadership()
        indexer.stop()
        checkpointer.join()
        state.fail(.closed(name))
        commit.release(unlead: false)
    }

    /// Stops the background thread, checkpoints if the log holds records, and releases the
    /// collection. Later calls throw `.closed`.
    public func close() throws(StoreError) {
        if commit.closeToWriters() { return }
        indexer.stop()
        checkpointer.join()
        let needs = commit.leadToClose()
        defer {
            state.fail(.closed(name))
            commit.release(unlead: true)
        }
        if needs && state.anyFailure == nil {
            try state.gate.withLock { () throws(StoreError) in try checkpointer.checkpointLocked(reload: false) }
        }
    }

    // MARK: Validation

    /// One call is one log record, and recovery accepts records up to `WriteAheadLog.maxPayload`:
    /// a bigger one would be acknowledged, then dropped at replay as damaged.
    private func checkLogRecordSize(_ bytes: Int, _ what: String) throws(StoreError) {
        guard bytes <= WriteAheadLog.maxPayload else {
            throw .invalidArgument("\(what) is \(bytes) bytes in the log; one call may write at most \(WriteAheadLog.maxPayload) bytes: split it")
        }
    }

    private func validateKey(_ key: String) throws(StoreError) {
        let n = key.utf8.count
        guard n >= 1, n <= VectorCollection.maxKeyBytes else {
            throw .invalidArgument("key must be 1…\(VectorCollection.maxKeyBytes) bytes of UTF-8, got \(n) bytes")
        }
    }

    /// Checks a record and returns its inverse norm (1 for non-cosine metrics).
    private func validate(_ r: Record) throws(StoreError) -> Float {
        try validateKey(r.key)
        guard r.vector.count == config.dimension else {
            throw .invalidArgument("record '\(r.key)' has \(r.vector.count) components, collection '\(name)' has dimension \(config.dimension)")
        }
        if let problem = vectorProblem(r.vector) { throw .invalidArgument("record '\(r.key)': \(problem)") }
        if let meta = r.metadata {
            guard meta.utf8.count <= VectorCollection.maxMetadataBytes else {
                throw .invalidArgument("metadata of '\(r.key)' is \(meta.utf8.count) bytes, limit \(VectorCollection.maxMetadataBytes)")
            }
            try withBytes(of: Array(meta.utf8)) { b throws(StoreError) in try MetadataJSON.validateObject(b, key: r.key) }
        }
        if let document = r.document {
            guard document.utf8.count <= VectorCollection.maxDocumentBytes else {
                throw .invalidArgument("document of '\(r.key)' is \(document.utf8.count) bytes, limit \(VectorCollection.maxDocumentBytes)")
            }
            guard !document.utf8.contains(0) else { throw .invalidArgument("document of '\(r.key)' contains a NUL byte") }
        }
        guard config.metric == .cosine else { return 1 }
        return NodeStore.storedInverseNorm(r.vector, storage: config.storage)!  // vectorProblem checked it
    }

    /// Why this collection cannot store `v` (nil when it can): NaN or infinity, a component
    /// beyond f16's range, or — for cosine — no direction, as given or as stored. The daemon
    /// asks this per item, so one bad vector fails only its own item.
    public func vectorProblem(_ v: [Float]) -> String? {
        guard v.allSatisfy({ $0.isFinite }) else { return "the vector contains NaN or infinity" }
        if config.storage == .f16, let i = v.firstIndex(where: { abs($0) > Float(Float16.greatestFiniteMagnitude) }) {
            return "component \(i) (\(v[i])) is outside the range of collection '\(name)''s f16 storage (±65504)"
        }
        guard config.metric == .cosine else { return nil }
        guard Metric.inverseNorm(v) != nil else { return "the vector is \(Metric.directionProblem(v))" }
        // Scores are cosines of the vector as stored, so its own norm (f16 and int8 round it).
        guard NodeStore.storedInverseNorm(v, storage: config.storage) != nil else {
            return "the vector is too small for collection '\(name)''s \(config.storage.rawValue) storage (it would be stored as \(Metric.directionProblem(NodeStore.roundTrip(v, through: config.storage))))"
        }
        return nil
    }
}
