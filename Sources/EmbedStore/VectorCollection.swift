import EmbedSys
import Synchronization

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
/// Invariants behind `@unchecked Sendable`: the fields under "state" are read under
/// `state`'s shared lock and written under its exclusive lock by the one current mutator
/// (whoever holds `gate`); group-commit fields are guarded by `commit`; indexer fields by
/// `indexerSignal`.
///
/// Two mutators may run at once: the commit leader appends nodes, keys and tombstones (under
/// the exclusive lock), while the indexer plans graph insertions *without* the shared lock —
/// so writers never wait for a graph search. That is safe because (1) only the indexer changes
/// links, entry point and levels; (2) nodes appended meanwhile are unreachable until the
/// indexer links them; (3) tombstone bits are single aligned words; (4) memory never moves
/// while the indexer holds `gate`: a leader whose batch needs the arrays to grow takes `gate`
/// first. Checkpoints hold both log leadership and `gate`, so nothing mutates during them.
public final class VectorCollection: @unchecked Sendable {
    /// The collection's name.
    public let name: String
    /// Its configuration (fixed at creation).
    public let config: CollectionConfig
    /// Its directory.
    public let directory: String

    let options: OpenOptions
    let logger: StoreLogger
    /// Released by `close()`/`abandon()` (guarded by `commit`) so the collection can be reopened.
    private var lock: FileLock?

    // MARK: state (see invariants above)
    private let state = ReadWriteLock()
    private var store: NodeStore   // replaced (exclusive lock) only by a compacting checkpoint
    private var keys: KeyIndex
    /// Bumped when a compaction renumbers the nodes (changed only with `gate` held), so
    /// background passes that span several `gate` sections notice and stop.
    private var generation = 0
    private var pending: [UInt32] = []
    private var pendingHead = 0
    private var liveCount = 0
    private var deletedCount = 0
    private var deletedSinceRepair = 0
    private var snapshot: SnapshotFile.Mapped?
    private var snapshotBytes: Int64 = 0
    private var rng: SplitMix64
    private var failure: StoreError?
    /// Set when a log append failed other than for lack of space: writes are refused until
    /// the collection is reopened, reads go on — memory holds exactly the acknowledged writes,
    /// since a batch is applied only after its append succeeded.
    private var writeFailure: StoreError?

    /// Held by the single mutator of the moment: the commit leader applying, the indexer
    /// linking or repairing, or a checkpoint.
    private let gate = ConditionLock()
    /// Commit leaders waiting for `gate`. A mutex is not fair: without this the indexer, which
    /// re-takes `gate` for every node, would starve writers (measured: 900 acknowledged
    /// upserts/s instead of tens of thousands). The indexer steps aside while it is non-zero.
    private let appliersWaiting = Atomic<Int>(0)
    /// Set by a commit leader whose write took the log past `checkpointLogBytes`; the indexer
    /// checkpoints before linking more (a flag, so its hot loop takes no lock to check).
    private let logPastLimit = Atomic<Bool>(false)
    /// The next checkpoint compacts whatever the deleted count (see `optimize`).
    private let compactionRequested = Atomic<Bool>(false)
    /// Set when a checkpoint failed while writing its snapshot file (disk full, I/O error):
    /// nothing changed then — the old snapshot and the whole log still hold every write — so
    /// the collection keeps serving and background checkpoints retry after a pause.
    private let snapshotWriteFailed = Atomic<Bool>(false)
    /// Monotonic time before which background checkpoints are not retried (indexer only).
    private var checkpointRetryAt: UInt64 = 0

    // MARK: group commit (guarded by `commit`)
    private let commit = ConditionLock()
    private var queue: [Queued] = []
    private var leaderBusy = false
    private var nextSeq: UInt64 = 1
    private var durableSeq: UInt64 = 0
    private var checkpointSeq: UInt64 = 0
    private var isClosed = false
    private let wal: WriteAheadLog
    /// The last append ran out of space (read and written by the log's leader only): logged
    /// when it starts and when writes succeed again, not once per refused write.
    private var outOfSpace = false

    // MARK: indexer (guarded by `indexerSignal`)
    private let indexerSignal = ConditionLock()
    private var indexerStop = false
    private var indexerWake = false
    private var indexerIdle = true
    private var repairRequested = false
    /// An insertion found no live node by walking the graph: check reachability soon.
    private var relinkRequested = false
    private var indexerThread: OSThread?
    private var verifierThread: OSThread?
    /// True while the background verifier reads the snapshot (guarded by `verification`): a
    /// checkpoint waits for it, or it could copy damage it has not found yet into a new
    /// snapshot with fresh checksums.
    private var verificationPending = false
    private let verification = ConditionLock()

    private let scratchLock = ConditionLock()
    private var scratchPool: [SearchScratch] = []

    private final class Queued {
        let type: WriteAheadLog.RecordType
        let payload: [UInt8]
        let op: Operation
        var seq: UInt64 = 0
        var affected = 0
        /// Set (under `commit`) when its group commit ran out of space: nothing of it was stored.
        var error: StoreError?
        init(type: WriteAheadLog.RecordType, payload: [UInt8], op: Operation) {
            self.type = type
            self.payload = payload
            self.op = op
        }
    }

    private enum Operation {
        case upsert([Record], [Float])  // records and their inverse norms
        case delete([String])
    }

    static let maxKeyBytes = 1024
    static let maxMetadataBytes = 64 * 1024

    // MARK: Opening

    /// Opens the collection in `directory` (use `StoreCatalog`, which also creates them).
    init(directory: String, options: OpenOptions, logger: @escaping StoreLogger) throws(StoreError) {
        self.directory = directory
        self.options = options
        self.logger = logger
        let metaPath = directory + "/collection.meta"
        let metaBytes = try io(metaPath, "read") { () throws(Errno) in try FileSystem.readFile(metaPath, limit: 4096) }
        (name, config) = try CollectionMeta.decode(metaBytes, path: metaPath)
        do { lock = try FileLock(path: directory + "/LOCK") } catch {
            if error == .wouldBlock || error == .permissionDenied { throw StoreError.collectionLocked(directory) }
            throw StoreError.io(path: directory + "/LOCK", operation: "lock", errno: error)
        }
        let snapPath = directory + "/index.snap"
        try? FileSystem.unlink(snapPath + ".tmp")  // a checkpoint that died before its rename
        var snapSeq: UInt64 = 0
        rng = SplitMix64(seed: options.seed)
        let hasSnapshot = FileSystem.exists(snapPath)
        if hasSnapshot {
            let loaded = try VectorCollection.load(snapshot: snapPath, config: config, verify: options.verification == .full)
            store = loaded.store
            keys = loaded.keys
            pending = loaded.pending
            liveCount = loaded.mapped.header.liveCount
            deletedCount = loaded.mapped.header.deletedCount
            snapSeq = loaded.mapped.header.walSeq
            rng = SplitMix64(seed: loaded.mapped.header.rngState)
            snapshot = loaded.mapped
            snapshotBytes = loaded.mapped.fileSize
        } else {
            do { store = try NodeStore(dimension: config.dimension, metric: config.metric, m: config.hnsw.m, storage: config.storage) } catch {
                throw StoreError.io(path: directory, operation: "mmap", errno: error)
            }
            keys = KeyIndex()
        }
        checkpointSeq = snapSeq
        var lastSeq = snapSeq
        var replayed = 0
        let walPath = directory + "/wal.log"
        let dimension = config.dimension
        let metric = config.metric
        let storage = config.storage
        var ops: [Operation] = []
        wal = try WriteAheadLog.open(path: walPath, afterSeq: snapSeq, log: logger) { entry throws(StoreError) in
            guard entry.seq > snapSeq else { return }
            guard let op = VectorCollection.decode(entry, dimension: dimension, metric: metric, storage: storage) else {
                throw StoreError.corrupt(file: walPath, detail: "record \(entry.seq) has a valid checksum but cannot be decoded")
            }
            lastSeq = entry.seq
            replayed += 1
            ops.append(op)
        }
        try LogCoverage.check(snapshotPath: snapPath, snapshotSeq: hasSnapshot ? snapSeq : nil, logPath: walPath,
                              logBase: wal.baseSeq, firstSeq: wal.firstSeq)
        // Replay is idempotent: upserts replace by key, deletes of absent keys do nothing.
        for op in ops { _ = try applyUnlocked(op) }
        nextSeq = lastSeq + 1
        durableSeq = lastSeq
        if replayed > 0 { logger(.info, "\(name): replayed \(replayed) log records after sequence \(snapSeq)") }
        try startThreads()
    }

    /// Maps a snapshot file: the node arrays and key table straight from it (copy-on-write).
    private static func load(snapshot path: String, config: CollectionConfig, verify: Bool) throws(StoreError)
        -> (store: NodeStore, keys: KeyIndex, pending: [UInt32], mapped: SnapshotFile.Mapped) {
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

    private func startThreads() throws(StoreError) {
        do {
            // unowned(unsafe): a strong capture would keep an unclosed collection alive forever;
            // deinit joins these threads before the memory goes away.
            if case .background = options.verification, snapshot != nil { verificationPending = true }  // before the indexer runs
            indexerThread = try OSThread { [unowned(unsafe) self] in indexerLoop() }
            if case .background = options.verification, let s = snapshot {
                verifierThread = try OSThread { [unowned(unsafe) self] in
                    do throws(StoreError) { try SnapshotFile.verifySections(s) } catch {
                        logger(.error, "\(name): \(error); the collection is failed until repaired")
                        state.withWriteLock { failure = failure ?? error }
                    }
                    verification.withLock { verificationPending = false; verification.broadcast() }
                }
            }
        } catch {
            throw StoreError.io(path: directory, operation: "pthread_create", errno: error)
        }
    }

    deinit {
        indexerSignal.withLock { indexerStop = true; indexerSignal.broadcast() }
        indexerThread?.join()
        verifierThread?.join()
    }

    // MARK: Public API

    /// Inserts or replaces records by key. Returns once their log record is durable (fsync'd);
    /// a search issued after that sees them.
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
            w.blob(Array((r.metadata ?? "").utf8))
            w.f32s(r.vector)
        }
        try checkLogRecordSize(w.bytes.count, "upsert of \(records.count) records")
        try throttle()
        _ = try submit(Queued(type: .upsert, payload: w.bytes, op: .upsert(records, norms)))
    }

    /// Deletes records by key; returns how many existed. Durable when it returns.
    @discardableResult
    public func delete(_ keys: [String]) throws(StoreError) -> Int {
        if keys.isEmpty { return 0 }
        for k in keys { try validateKey(k) }
        // Only keys stored now are logged (once each): a delete of keys that are not there
        // changes nothing and writes no record (it once wrote 66 MB of log for 3M absent keys).
        // A concurrent upsert of one of them is ordered as if it came after this delete.
        let present: [String] = try state.withReadLock { () throws(StoreError) -> [String] in
            if let failure { throw failure }
            var seen = Set<String>()
            return keys.filter { k in
                guard seen.insert(k).inserted, let id = self.keys.lookup(k, in: store), Int(id) < store.count else { return false }
                return !store.isDeleted(id)
            }
        }
        if present.isEmpty { return 0 }
        var w = ByteWriter()
        w.u32(UInt32(present.count))
        for k in present { w.blob(Array(k.utf8)) }
        try checkLogRecordSize(w.bytes.count, "delete of \(present.count) keys")
        return try submit(Queued(type: .delete, payload: w.bytes, op: .delete(present)))
    }

    /// The record stored under `key`, or nil.
    public func get(_ key: String) throws(StoreError) -> Record? {
        try state.withReadLock { () throws(StoreError) -> Record? in
            if let failure { throw failure }
            guard let id = keys.lookup(key, in: store), Int(id) < store.count, !store.isDeleted(id) else { return nil }
            return Record(key: key, vector: store.decodedVector(id), metadata: store.metadata(id))
        }
    }

    /// Live records.
    public var count: Int { state.withReadLock { liveCount } }

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
    ///     server's bound on its reply (k up to 100 000 × metadata up to 64 KiB each).
    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: MetadataFilter? = nil,
                       resultBytesLimit: Int = .max) throws(StoreError) -> [SearchHit] {
        try checkSearch(query, k: k, ef: ef, filter: filter)
        if let filter, filter.conditions.isEmpty { return try search(query, k: k, ef: ef, filter: nil, resultBytesLimit: resultBytesLimit) }
        let scratch = takeScratch()
        defer { returnScratch(scratch) }
        return try state.withReadLock { () throws(StoreError) -> [SearchHit] in
            // No scan limit: never nil.
            try searchShared(query, k: k, ef: ef, filter: filter, resultBytesLimit: resultBytesLimit, scratch: scratch) ?? []
        }
    }

    /// `search` without a filter, only if it can start at once and stays short: nil (nothing
    /// returned) when a writer holds or waits for the collection (a compaction's reload, a
    /// growth copying the node array), when more than `maxUnindexed` records await the
    /// indexer (each is compared exactly), or when the answer needs an exact scan of more than
    /// `maxUnindexed` nodes (k at least the live count, or a graph region cut off by
    /// deletions). For a caller that must not block, such as a server's event loop: on nil it
    /// hands the search to a thread that may wait.
    public func searchIfQuick(_ query: [Float], k: Int, ef: Int? = nil, maxUnindexed: Int = 1024,
                              resultBytesLimit: Int = .max) throws(StoreError) -> [SearchHit]? {
        try checkSearch(query, k: k, ef: ef, filter: nil)
        let scratch = takeScratch()
        defer { returnScratch(scratch) }
        return try state.withReadLockIfFree { () throws(StoreError) -> [SearchHit]? in
            guard pending.count - pendingHead <= maxUnindexed else { return nil }
            return try searchShared(query, k: k, ef: ef, filter: nil, resultBytesLimit: resultBytesLimit, scratch: scratch,
                                    exactScanLimit: maxUnindexed)
        } ?? nil
    }

    /// Tests: runs `body` holding the collection as a writer does.
    func withExclusiveStateForTesting(_ body: () -> Void) { state.withWriteLock(body) }

    /// Tests: runs `body` while the indexer cannot take its next step (it needs `gate`);
    /// writes that need no growth still commit, and stay unindexed.
    func withIndexerHeldForTesting(_ body: () throws -> Void) rethrows { try gate.withLock { try body() } }

    private func checkSearch(_ query: [Float], k: Int, ef: Int?, filter: MetadataFilter?) throws(StoreError) {
        guard query.count == config.dimension else {
            throw .invalidArgument("query has \(query.count) components, collection '\(name)' has dimension \(config.dimension)")
        }
        guard query.allSatisfy({ $0.isFinite }) else { throw .invalidArgument("query contains NaN or infinity") }
        if config.metric == .cosine && Metric.inverseNorm(query) == nil {
            throw .invalidArgument("query is \(Metric.directionProblem(query))")
        }
        guard (1...100_000).contains(k) else { throw .invalidArgument("k must be 1…100000, got \(k)") }
        if let ef, !(1...100_000).contains(ef) { throw .invalidArgument("ef must be 1…100000, got \(ef)") }
        if let filter { try filter.validate() }
    }

    /// The search proper; the caller holds `state` shared. nil only when an exact scan of more
    /// than `exactScanLimit` nodes would be needed.
    private func searchShared(_ query: [Float], k: Int, ef: Int?, filter: MetadataFilter?, resultBytesLimit: Int,
                              scratch: SearchScratch, exactScanLimit: Int = .max) throws(StoreError) -> [SearchHit]? {
        if let failure { throw failure }
        let s = store
        let prepared = s.prepare(query: query)
        let searched = prepared.withUnsafeBufferPointer { qb in
            searchLocked(qb.baseAddress!, k: k, ef: max(ef ?? config.hnsw.ef, k), filter: filter, scratch: scratch,
                         exactScanLimit: exactScanLimit)
        }
        guard let found = searched else { return nil }
        // Keys and metadata sit in the heap behind each hit's record entry: two dependent
        // misses per hit, overlapped across the hits instead of paid one after another.
        for (_, id) in found { s.prefetchRecord(id) }
        for (_, id) in found { s.prefetchKey(id) }
        var bytes = 0
        var hits: [SearchHit] = []
        hits.reserveCapacity(found.count)
        for (distance, id) in found {
            let hit = SearchHit(key: s.key(id), score: config.metric.score(fromDistance: distance), metadata: s.metadata(id))
            bytes += hit.key.utf8.count + (hit.metadata?.utf8.count ?? 0) + 24
            if bytes > resultBytesLimit {
                throw .resultTooLarge("the \(found.count) hits of this search hold more than \(resultBytesLimit) bytes of keys and "
                                      + "metadata (after \(hits.count) hits); ask for fewer (smaller k, fewer queries per call)")
            }
            hits.append(hit)
        }
        return hits
    }

    /// Sizes and state.
    public func stats() -> CollectionStats {
        let (last, cp, walBytes) = commit.withLock { (durableSeq, checkpointSeq, wal.size) }
        return state.withReadLock {
            CollectionStats(name: name, config: config, count: liveCount, deleted: deletedCount,
                            unindexed: pending.count - pendingHead, nodes: store.count, maxLevel: store.maxLevel,
                            walBytes: walBytes, snapshotBytes: snapshotBytes,
                            memoryBytes: store.count * (store.stride + NodeStore.recordBytes) + store.upperUsed * 4 + store.heapUsed,
                            lastSequence: last, checkpointSequence: cp)
        }
    }

    /// Blocks until every acknowledged record is linked into the graph and pending delete
    /// repairs are done (useful before measuring, and in tests).
    public func waitForIndexing() throws(StoreError) {
        indexerSignal.withLock { repairRequested = true; indexerWake = true; indexerSignal.broadcast() }
        while true {
            let done = indexerSignal.withLock { indexerIdle && !indexerWake && !repairRequested }
            if try state.withReadLock({ () throws(StoreError) -> Bool in
                if let failure { throw failure }
                return done && pendingHead == pending.count
            }) { return }
            ChildProcess.sleep(seconds: 0.002)
        }
    }

    /// Writes a checkpoint now: the snapshot file replaces the old one and the log is emptied.
    /// Searches continue meanwhile; writers wait until it is done.
    public func checkpoint() throws(StoreError) {
        awaitVerification()  // before leadership: writers keep going while the verifier reads
        try lead()
        defer { unlead() }
        do { try gate.withLock { () throws(StoreError) in try checkpointLocked() } } catch {
            snapshotWriteFailed.store(false, ordering: .relaxed)  // the caller has the error; the indexer must not see it
            throw error
        }
    }

    /// Checkpoints through a compaction even if few records are deleted: deleted records are
    /// dropped and the nodes renumbered in breadth-first order of the graph, so that a node's
    /// neighbour list spans fewer pages (bench/NOTES.md: +5–10 % QPS on a collection
    /// built in insertion order). Costs a full copy of the collection; writers wait for it as
    /// for any checkpoint, searches do not.
    public func optimize() throws(StoreError) {
        compactionRequested.store(true, ordering: .relaxed)
        try checkpoint()
    }

    /// Why the collection refuses calls (damage found, closed), or nil.
    public var failureReason: StoreError? { state.withReadLock { failure } }

    /// Why the collection refuses writes until it is reopened (a failed `fdatasync` or
    /// `write` other than for lack of space) while reads go on, or nil. A full disk is not
    /// such a state: those writes fail alone, and later ones succeed once space is freed.
    public var writeFailureReason: StoreError? { state.withReadLock { writeFailure } }

    /// Whether the background verifier still reads the snapshot.
    private func verifying() -> Bool { verification.withLock { verificationPending } }

    /// Waits until the background verifier has read the snapshot (at once without one).
    private func awaitVerification() { verification.withLock { while verificationPending { verification.wait() } } }

    /// Stops everything without a checkpoint (the collection is being dropped). Waits for the
    /// log's current leader — a group commit or a checkpoint/optimize writing files by path —
    /// and keeps leadership, so nothing writes into the directory once it is renamed away (a
    /// name dropped and created again would otherwise receive the old collection's snapshot).
    /// Writers still queued fail with `.closed`.
    func abandon() {
        commit.withLock {
            isClosed = true
            commit.broadcast()
            while leaderBusy { commit.wait() }
            leaderBusy = true
        }
        indexerSignal.withLock { indexerStop = true; indexerSignal.broadcast() }
        indexerThread?.join()
        verifierThread?.join()
        state.withWriteLock { failure = failure ?? .closed(name) }
        commit.withLock { lock = nil }
    }

    /// Stops the background thread, checkpoints if the log holds records, and releases the
    /// collection. Later calls throw `.closed`.
    public func close() throws(StoreError) {
        let already = commit.withLock { () -> Bool in
            defer { isClosed = true }
            return isClosed
        }
        if already { return }
        indexerSignal.withLock { indexerStop = true; indexerSignal.broadcast() }
        indexerThread?.join()
        verifierThread?.join()
        let needs = commit.withLock { () -> Bool in
            while leaderBusy { commit.wait() }
            leaderBusy = true
            return durableSeq > checkpointSeq && failure == nil
        }
        defer {
            state.withWriteLock { failure = failure ?? .closed(name) }
            commit.withLock { leaderBusy = false; lock = nil; commit.broadcast() }
        }
        if needs && state.withReadLock({ failure == nil && writeFailure == nil }) {
            try gate.withLock { () throws(StoreError) in try checkpointLocked(reload: false) }
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

    // MARK: Group commit

    /// Makes `q` durable (sharing an fsync with concurrent writers), applies it, returns its
    /// affected count.
    private func submit(_ q: Queued) throws(StoreError) -> Int {
        let lead = try commit.withLock { () throws(StoreError) -> Bool in
            if isClosed { throw StoreError.closed(name) }
            q.seq = nextSeq
            nextSeq += 1
            queue.append(q)
            while true {
                if let error = q.error { throw error }
                if durableSeq >= q.seq { return false }
                if let failure = stateFailure() {
                    queue.removeAll { $0 === q }
                    throw failure
                }
                // Closed or dropped while still queued (no leader took it): never written.
                // Once a leader has taken it, its outcome (durable or failed) is awaited.
                if isClosed, let i = queue.firstIndex(where: { $0 === q }) {
                    queue.remove(at: i)
                    throw StoreError.closed(name)
                }
                if !leaderBusy { leaderBusy = true; return true }
                commit.wait()
            }
        }
        guard lead else { return q.affected }
        defer { unlead() }
        // Lead until our own record is durable; batches are whatever queued meanwhile.
        var rounds = 0
        var lastBatch = 0
        while true {
            if rounds > 0 && lastBatch > 1 {
                // The writers just acknowledged usually come straight back: give them a moment
                // (yielding the CPU to them) to join this fsync instead of paying for the next.
                let deadline = Clock.monotonicNanoseconds() + 60_000
                while commit.withLock({ queue.count }) < lastBatch && Clock.monotonicNanoseconds() < deadline { OSThread.yield() }
            }
            let batch = commit.withLock { () -> [Queued] in
                defer { queue.removeAll(keepingCapacity: true) }
                return queue
            }
            if batch.isEmpty { break }
            lastBatch = batch.count
            var w = ByteWriter(capacity: batch.reduce(0) { $0 + $1.payload.count + WriteAheadLog.recordHeaderSize })
            for (i, item) in batch.enumerated() {
                WriteAheadLog.frame(seq: item.seq, type: item.type, payload: item.payload, indexInGroup: i, into: &w)
            }
            do {
                try wal.appendAndSync(w.bytes)
            } catch {
                if refuseAfterFailedAppend(batch, error) {
                    if batch.contains(where: { $0 === q }) { throw error }
                    break  // our own write was durable in an earlier round
                }
                if batch.contains(where: { $0 === q }) { throw StoreError.failed("\(error)") }
                break
            }
            if outOfSpace {
                outOfSpace = false
                logger(.info, "\(name): writes succeed again (disk space was freed)")
            }
            do {
                var newNodes = 0, newBytes = 0
                for item in batch {
                    if case .upsert(let records, _) = item.op {
                        newNodes += records.count
                        for r in records { newBytes += r.key.utf8.count + (r.metadata?.utf8.count ?? 0) }
                    }
                }
                let apply = { () throws(StoreError) in
                    try self.state.withWriteLock { () throws(StoreError) in
                        for item in batch { item.affected = try self.applyUnlocked(item.op) }
                    }
                }
                if store.needsGrowth(nodes: newNodes, heapBytes: newBytes) {
                    // Growing moves memory: wait until the indexer is between steps.
                    appliersWaiting.add(1, ordering: .relaxed)
                    defer { appliersWaiting.subtract(1, ordering: .relaxed) }
                    try gate.withLock { () throws(StoreError) in try apply() }
                } else {
                    try apply()
                }
            } catch {
                logger(.error, "\(name): \(error); the collection is failed until reopened")
                state.withWriteLock { failure = failure ?? .failed("\(error)") }
                commit.withLock { commit.broadcast() }
                throw StoreError.failed("\(error)")
            }
            let walBytes = commit.withLock { () -> Int64 in
                durableSeq = batch.last!.seq
                commit.broadcast()
                return wal.size
            }
            wakeIndexer(checkpointDue: walBytes > options.checkpointLogBytes)
            // Keep leading for a few rounds while others queued meanwhile: handing over costs
            // a wake-up and a context switch per fsync on a busy machine.
            rounds += 1
            if durableSeq >= q.seq && (rounds >= 8 || commit.withLock({ queue.isEmpty })) { break }
        }
        return q.affected
    }

    private func stateFailure() -> StoreError? { state.withReadLock { failure ?? writeFailure } }

    /// After a failed append (log leadership held): the batch's writers are told, and the
    /// collection goes on. Out of space, the log was cut back to its last durable record, so
    /// only this batch fails; its sequence numbers pass to the writers queued behind it, which
    /// keeps the log gap-free (open treats a gap as lost data). Any other failure refuses all
    /// further writes until reopened. Returns whether the failure was out of space.
    private func refuseAfterFailedAppend(_ batch: [Queued], _ error: StoreError) -> Bool {
        guard error.isOutOfSpace else {
            logger(.error, "\(name): \(error); refusing further writes until reopened (reads continue)")
            state.withWriteLock { writeFailure = writeFailure ?? .failed("\(error)") }
            commit.withLock { commit.broadcast() }
            return false
        }
        if !outOfSpace {
            outOfSpace = true
            logger(.error, "\(name): \(error): the disk is full; writes are refused until space is freed, reads continue")
        }
        commit.withLock {
            for item in batch { item.error = error }
            nextSeq = batch[0].seq
            for item in queue {
                item.seq = nextSeq
                nextSeq += 1
            }
            commit.broadcast()
        }
        return true
    }

    /// Whether writes are refused until the collection is reopened (see `writeFailure`).
    private var writesRefused: Bool { state.withReadLock { writeFailure != nil } }

    /// Becomes the only writer of the log (waits for the current leader).
    private func lead() throws(StoreError) {
        try commit.withLock { () throws(StoreError) in
            if isClosed { throw StoreError.closed(name) }
            while leaderBusy { commit.wait() }
            leaderBusy = true
        }
    }

    private func unlead() {
        commit.withLock {
            leaderBusy = false
            commit.broadcast()
        }
    }

    /// Waits while too many acknowledged records are not yet indexed.
    private func throttle() throws(StoreError) {
        while state.withReadLock({ pending.count - pendingHead > options.maxUnindexed && failure == nil && writeFailure == nil }) {
            wakeIndexer(checkpointDue: false)
            ChildProcess.sleep(seconds: 0.001)
        }
    }

    // MARK: Applying operations (exclusive lock held, or during open)

    private func applyUnlocked(_ op: Operation) throws(StoreError) -> Int {
        switch op {
        case .upsert(let records, let norms):
            for (r, inv) in zip(records, norms) {
                if let old = keys.lookup(r.key, in: store), Int(old) < store.count, !store.isDeleted(old) {
                    store.markDeleted(old)
                    liveCount -= 1
                    deletedCount += 1
                    deletedSinceRepair += 1
                }
                let id: UInt32
                do {
                    id = try withBytes(of: r.vector) { raw throws(Errno) in
                        let v = raw.bindMemory(to: Float.self)
                        return try store.append(vector: v, invNorm: inv, key: r.key.utf8, metadata: (r.metadata ?? "").utf8)
                    }
                } catch {
                    throw StoreError.io(path: directory, operation: "grow memory (mmap)", errno: error)
                }
                keys.bind(r.key, to: id)
                pending.append(id)
                liveCount += 1
            }
            return records.count
        case .delete(let keyList):
            var n = 0
            for k in keyList {
                guard let id = keys.lookup(k, in: store), Int(id) < store.count, !store.isDeleted(id) else { continue }
                store.markDeleted(id)
                keys.bind(k, to: id)
                liveCount -= 1
                deletedCount += 1
                deletedSinceRepair += 1
                n += 1
            }
            return n
        }
    }

    private static func decode(_ e: WriteAheadLog.Entry, dimension: Int, metric: Metric, storage: StorageType) -> Operation? {
        var r = ByteReader(e.payload)
        guard let n = r.u32() else { return nil }
        switch e.type {
        case .upsert:
            var records: [Record] = []
            var norms: [Float] = []
            for _ in 0..<n {
                guard let key = r.blob(limit: maxKeyBytes), let meta = r.blob(limit: maxMetadataBytes),
                      let raw = r.raw(dimension * 4) else { return nil }
                let v = (0..<dimension).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
                var inv: Float = 1
                if metric == .cosine {
                    guard let i = NodeStore.storedInverseNorm(v, storage: storage) else { return nil }  // as `validate` computed it
                    inv = i
                }
                records.append(Record(key: String(decoding: key, as: UTF8.self), vector: v,
                                      metadata: meta.isEmpty ? nil : String(decoding: meta, as: UTF8.self)))
                norms.append(inv)
            }
            return r.remaining == 0 ? .upsert(records, norms) : nil
        case .delete:
            var keyList: [String] = []
            for _ in 0..<n {
                guard let key = r.blob(limit: maxKeyBytes) else { return nil }
                keyList.append(String(decoding: key, as: UTF8.self))
            }
            return r.remaining == 0 ? .delete(keyList) : nil
        }
    }

    // MARK: Search (shared lock held)

    private func searchLocked(_ q: UnsafePointer<Float>, k: Int, ef: Int, filter: MetadataFilter?, scratch: SearchScratch,
                              exactScanLimit: Int = .max) -> [(Float, UInt32)]? {
        let s = store
        // Without deletions or a filter every node is a result: the walk then never reads a
        // visited node's header (one cache miss per accepted candidate).
        let accept: ((UInt32) -> Bool)?
        if let filter {
            accept = { !s.isDeleted($0) && filter.matches(s.metadataBytes($0)) }
        } else if deletedCount > 0 {
            accept = { !s.isDeleted($0) }
        } else {
            accept = nil
        }
        var exact = liveCount <= k
        if let filter, !exact {
            // Estimate selectivity from an even sample; a very selective filter would make the
            // graph walk visit most of the graph anyway, so scan exactly instead.
            let sample = min(s.count, 256)
            var live = 0, matched = 0
            for i in 0..<sample {
                let id = UInt32(i * s.count / sample)
                if s.isDeleted(id) { continue }
                live += 1
                if filter.matches(s.metadataBytes(id)) { matched += 1 }
            }
            exact = live == 0 || matched * 100 < live
        }
        var results: [(Float, UInt32)] = []
        if !exact, let entry = s.entryPoint, Int(entry) < s.count {
            if options.quantizedSearch {
                // Walk the graph on the 8-bit codes (a quarter of the memory traffic and a
                // cheaper kernel), then re-rank the ef candidates with exact distances.
                var codes = [Int8](repeating: 0, count: s.dimension)
                var walked: [(Float, UInt32)]? = nil
                codes.withUnsafeMutableBufferPointer { cb in
                    let scale = NodeStore.quantize(q, s.dimension, into: cb.baseAddress!)
                    let qq = QuantizedQuery(codes: UnsafePointer(cb.baseAddress!), scale: scale, norm2: s.dotKernel(q, q, s.dimension))
                    var cur = entry
                    var curD = s.approximateDistance(qq, cur)
                    var l = s.maxLevel
                    while l > 0 {
                        (cur, curD) = HNSW.greedy(s, query: q, from: cur, distance: curD, level: l, quantized: qq)
                        l -= 1
                    }
                    if filter == nil, let w = s.walkLayer0(qq, entries: [(curD, cur)], ef: ef, skipDeleted: accept != nil,
                                                                  beam: s.searchBeam, scratch: scratch) {
                        walked = w
                    } else {
                        HNSW.searchLayer(s, query: q, entries: [(curD, cur)], ef: ef, level: 0, scratch: scratch, quantized: qq, accept: accept)
                    }
                }
                // Exact distances for the best rerankFactor·k by code distance only: the f32
                // rows are the largest reads of a search.
                if let w = walked {
                    results = w
                } else {
                    results = scratch.results.sortedAscending()
                }
                let (r, overflow) = max(1, options.rerankFactor).multipliedReportingOverflow(by: k)
                if !overflow && results.count > r { results.removeLast(results.count - r) }
                for (_, id) in results { s.prefetchWholeVector(id) }
                for i in results.indices { results[i].0 = s.distance(q, results[i].1) }
                results.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            } else {
                var cur = entry
                var curD = s.distance(q, cur)
                var l = s.maxLevel
                while l > 0 {
                    (cur, curD) = HNSW.greedy(s, query: q, from: cur, distance: curD, level: l)
                    l -= 1
                }
                HNSW.searchLayer(s, query: q, entries: [(curD, cur)], ef: ef, level: 0, scratch: scratch, accept: accept)
                results = scratch.results.sortedAscending()
            }
            if results.count > k { results.removeLast(results.count - k) }
        }
        if !exact {
            for i in pendingHead..<pending.count {
                let id = pending[i]
                if accept?(id) ?? true { results.append((s.distance(q, id), id)) }
            }
            // Fewer than k found while more exist (a very selective filter the sample missed,
            // or a graph region cut off by deletions): fall back to the exact answer.
            if results.count < k && liveCount > results.count { exact = true }
        }
        if exact {
            // After the walk when it came up short (deletions): a quick caller then walks again
            // on its queue before scanning — bounded, and rare.
            if s.count > exactScanLimit { return nil }
            var heap = NeighborHeap(max: true, capacity: k + 1)
            for i in 0..<s.count {
                let id = UInt32(i)
                guard accept?(id) ?? !s.isDeleted(id) else { continue }
                let d = s.distance(q, id)
                if heap.count < k { heap.push(d, id) } else if d < heap.topDistance { heap.pop(); heap.push(d, id) }
            }
            return heap.sortedAscending()
        }
        results.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
        if results.count > k { results.removeLast(results.count - k) }
        return results
    }

    /// Graph health, for tests and diagnosis (see `graphHealth`).
    struct GraphHealth: CustomStringConvertible {
        var nodes = 0, live = 0, linkedLive = 0, pending = 0
        /// Live linked nodes that layer 0 cannot reach from the entry point.
        var unreachable = 0
        /// Mean number of distinct 4 KiB pages a live node's layer-0 neighbours are stored in:
        /// what scoring them touches (lower after `optimize`, which numbers siblings together).
        var neighbourPages = 0.0
        var entry = "none"
        var keyReport = ""
        var description: String {
            "nodes \(nodes), live \(live), linked live \(linkedLive), unreachable \(unreachable), pending \(pending), entry \(entry)"
                + (keyReport.isEmpty ? "" : "; " + keyReport)
        }
    }

    /// Walks layer 0 from the entry point (through deleted nodes too, as searches do) and
    /// counts the live linked nodes it cannot reach; with `key`, also describes that key's node.
    func graphHealth(key: String? = nil) -> GraphHealth {
        state.withReadLock {
            let s = store
            var h = GraphHealth(nodes: s.count, live: liveCount, pending: pending.count - pendingHead)
            let pendingSet = Set(pending[pendingHead...])
            var reached = [Bool](repeating: false, count: s.count)
            if let e = s.entryPoint, Int(e) < s.count {
                h.entry = "\(e) (level \(s.maxLevel), deleted \(s.isDeleted(e)))"
                HNSW.markReachable(s, from: e, reached: &reached)
            }
            var pages = 0
            for i in 0..<s.count where !s.isDeleted(UInt32(i)) && s.level(UInt32(i)) >= 0 {
                h.linkedLive += 1
                if !reached[i] { h.unreachable += 1 }
                let list = s.linkList(UInt32(i), level: 0)
                pages += Set((0..<min(Int(list.pointee), s.maxLinks0)).map { (Int(list[1 + $0]) * s.stride) >> 12 }).count
            }
            h.neighbourPages = h.linkedLive == 0 ? 0 : Double(pages) / Double(h.linkedLive)
            if let key, let id = keys.lookup(key, in: store), Int(id) < s.count {
                var inLinks = 0, liveInLinks = 0
                for i in 0..<s.count where s.hasLinks(UInt32(i), level: 0) {
                    let list = s.linkList(UInt32(i), level: 0)
                    if (0..<min(Int(list.pointee), s.maxLinks0)).contains(where: { list[1 + $0] == id }) {
                        inLinks += 1
                        if !s.isDeleted(UInt32(i)) { liveInLinks += 1 }
                    }
                }
                let outLinks = s.hasLinks(id, level: 0) ? Int(s.linkList(id, level: 0).pointee) : 0
                h.keyReport = "\(key): node \(id), level \(s.level(id)), deleted \(s.isDeleted(id)), pending \(pendingSet.contains(id)), "
                    + "reachable \(reached[Int(id)]), out-links \(outLinks), in-links \(inLinks) (\(liveInLinks) live)"
            }
            return h
        }
    }

    private func takeScratch() -> SearchScratch {
        scratchLock.withLock { scratchPool.popLast() } ?? SearchScratch(nodeCount: 0)
    }

    private func returnScratch(_ s: SearchScratch) {
        scratchLock.withLock { scratchPool.append(s) }
    }

    // MARK: Background indexing

    private func wakeIndexer(checkpointDue: Bool) {
        if checkpointDue { logPastLimit.store(true, ordering: .relaxed) }
        indexerSignal.withLock {
            indexerWake = true
            indexerSignal.broadcast()
        }
    }

    private func indexerLoop() {
        let scratch = SearchScratch(nodeCount: 0)
        while true {
            let stop = indexerSignal.withLock { () -> Bool in
                while !indexerStop && !indexerWake { indexerIdle = true; indexerSignal.wait(seconds: 0.5); break }
                indexerIdle = false
                indexerWake = false
                return indexerStop
            }
            if stop { break }
            while !indexerSignal.withLock({ indexerStop }) {
                do {
                    if try !indexStep(scratch: scratch) { break }
                } catch {
                    if snapshotWriteFailed.exchange(false, ordering: .relaxed) {
                        logger(.error, "\(name): checkpoint failed, still serving from the log; retrying in 10 s: \(error)")
                        checkpointRetryAt = Clock.monotonicNanoseconds() + 10_000_000_000
                        continue
                    }
                    logger(.error, "\(name): indexing stopped: \(error)")
                    state.withWriteLock { failure = failure ?? error }
                    break
                }
            }
            indexerSignal.withLock { indexerIdle = true }
        }
        indexerSignal.withLock { indexerIdle = true }
    }

    /// Does one unit of background work; returns false when there was none.
    private func indexStep(scratch: SearchScratch) throws(StoreError) -> Bool {
        if state.withReadLock({ failure != nil }) { return false }
        while appliersWaiting.load(ordering: .relaxed) > 0 { ChildProcess.sleep(seconds: 0.00002) }
        // 0. A log past its limit is checkpointed before any more linking: under a write load
        //    the indexer never catches up with, waiting for an idle moment would let the log
        //    (and the replay after a crash) grow without bound. Unindexed records are saved
        //    as such in the snapshot.
        //    Not while the background verifier still reads the snapshot (a checkpoint waits for
        //    it, and holding leadership meanwhile would stop every writer): retried later.
        if verifying() || Clock.monotonicNanoseconds() < checkpointRetryAt {
            // fall through: link records meanwhile
        } else if !writesRefused, logPastLimit.exchange(false, ordering: .relaxed) {
            try lead()
            defer { unlead() }
            if commit.withLock({ wal.size }) > options.checkpointLogBytes {  // not done meanwhile
                try gate.withLock { () throws(StoreError) in try checkpointLocked() }
            }
            return true
        }
        // 1. Link the oldest unindexed record.
        let linked = try gate.withLock { () throws(StoreError) -> Bool in
            let next = state.withReadLock { () -> (UInt32, Bool)? in
                guard pendingHead < pending.count else { return nil }
                let id = pending[pendingHead]
                return (id, store.isDeleted(id))
            }
            guard let (id, deleted) = next else { return false }
            // Planned without the shared lock (see the type's invariants): searches and
            // writers proceed while the indexer searches the graph.
            let plan = deleted ? nil : HNSW.planInsert(store, id: id, level: rng.level(m: config.hnsw.m),
                                                       efConstruction: config.hnsw.efConstruction, scratch: scratch)
            if plan?.scanned == true { indexerSignal.withLock { relinkRequested = true } }
            try state.withWriteLock { () throws(StoreError) in
                if let plan { try HNSW.apply(store, plan) }
                pendingHead += 1
                if pendingHead >= 4096 && pendingHead * 2 >= pending.count {
                    pending.removeFirst(pendingHead)
                    pendingHead = 0
                }
                if pendingHead == pending.count {
                    pending.removeAll(keepingCapacity: false)
                    pendingHead = 0
                }
            }
            return true
        }
        if linked { return true }
        // 2. Repair links into deleted nodes once enough have accumulated (or when asked).
        // Counts and generation read together under `gate`: a compaction between them would
        // leave a node count of the old numbering paired with the new generation.
        let (deletedNow, nodes, generationNow) = gate.withLock { state.withReadLock { (deletedSinceRepair, store.count, generation) } }
        let asked = indexerSignal.withLock { () -> Bool in defer { repairRequested = false }; return repairRequested }
        if deletedNow > 0 && (asked || deletedNow * 50 >= nodes) {
            try repairDeleted(upTo: nodes, accounted: deletedNow, generation: generationNow)
            return true
        }
        if indexerSignal.withLock({ () -> Bool in defer { relinkRequested = false }; return relinkRequested }) {
            gate.withLock { state.withWriteLock { HNSW.fixEntryPoint(store) } }
            try relinkUnreachable()
            return true
        }
        // 3. Checkpoint when the log has grown large (also a log replayed at open), or to
        //    compact when deleted records have piled up.
        if (commit.withLock({ wal.size }) > options.checkpointLogBytes || compactionDue) && !verifying() && !writesRefused
            && Clock.monotonicNanoseconds() >= checkpointRetryAt {
            try lead()
            defer { unlead() }
            try gate.withLock { () throws(StoreError) in try checkpointLocked() }
            return true
        }
        return false
    }

    private func repairDeleted(upTo nodes: Int, accounted: Int, generation started: Int) throws(StoreError) {
        let chunk = 1024
        var start = 0
        while start < nodes {
            while appliersWaiting.load(ordering: .relaxed) > 0 { ChildProcess.sleep(seconds: 0.00002) }
            let renumbered = gate.withLock { () -> Bool in
                if generation != started { return true }  // a compaction did the repair
                let updates = HNSW.planRepair(store, range: start..<min(start + chunk, nodes))
                state.withWriteLock { for (id, l, list) in updates { store.setLinks(id, level: l, list) } }
                return false
            }
            if renumbered { return }
            start += chunk
        }
        let renumbered = gate.withLock { () -> Bool in
            if generation != started { return true }
            state.withWriteLock {
                HNSW.fixEntryPoint(store)
                deletedSinceRepair -= accounted
            }
            return false
        }
        if !renumbered { try relinkUnreachable() }
    }

    /// Re-inserts live nodes that layer 0 no longer reaches from the entry point (a node whose
    /// in-links all came through deleted nodes can lose them all in a repair), so an indexed
    /// record is always findable. One walk of the graph, then one insertion per stranded island.
    private func relinkUnreachable() throws(StoreError) {
        let started = gate.withLock { generation }
        var reached = gate.withLock { () -> [Bool] in
            state.withReadLock {
                var reached = [Bool](repeating: false, count: store.count)
                if let e = store.entryPoint { HNSW.markReachable(store, from: e, reached: &reached) }
                return reached
            }
        }
        let scratch = SearchScratch(nodeCount: 0)
        var relinked = 0
        for i in 0..<reached.count where !reached[i] {
            while appliersWaiting.load(ordering: .relaxed) > 0 { ChildProcess.sleep(seconds: 0.00002) }
            try gate.withLock { () throws(StoreError) in
                let id = UInt32(i)
                guard generation == started else { return }
                let level = state.withReadLock { store.isDeleted(id) || store.entryPoint == nil ? -1 : store.usableLevel(id) }
                guard level >= 0, !reached[i] else { return }
                let plan = HNSW.planInsert(store, id: id, level: level, efConstruction: config.hnsw.efConstruction, scratch: scratch)
                try state.withWriteLock { () throws(StoreError) in try HNSW.apply(store, plan, assignLevel: false) }
                HNSW.markReachable(store, from: id, reached: &reached)
                relinked += 1
            }
        }
        if relinked > 0 { logger(.info, "\(name): re-linked \(relinked) graph regions that deletions had cut off") }
    }

    // MARK: Checkpoint (log leadership and `gate` held: no mutator runs)

    /// Whether deleted records are worth reclaiming (see `OpenOptions.compactionMinDeleted`).
    private var compactionDue: Bool {
        state.withReadLock {
            deletedCount >= options.compactionMinDeleted
                && Double(deletedCount) >= options.compactionDeletedFraction * Double(store.count)
        }
    }

    /// Writes the snapshot and empties the log. When deleted records have piled up, the
    /// snapshot is a compacted copy without them and the collection continues from it
    /// (`reload`; false when closing).
    private func checkpointLocked(reload: Bool = true) throws(StoreError) {
        verification.withLock { while verificationPending { verification.wait() } }
        if let failure = state.withReadLock({ failure ?? writeFailure }) { throw failure }
        let seq = commit.withLock { durableSeq }
        let started = ContinuousClock.now
        let path = directory + "/index.snap"
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
                try writeSnapshot(store, pending: Array(pending[pendingHead...]), liveCount: liveCount, deletedCount: deletedCount, seq: seq, path: path)
            } catch {
                snapshotWriteFailed.store(true, ordering: .relaxed)
                throw error
            }
        }
        do { try wal.reset(baseSeq: seq) } catch {
            state.withWriteLock { failure = failure ?? .failed("\(error)") }
            throw error
        }
        commit.withLock { checkpointSeq = seq }
        if compact && reload {
            // Continue from the compacted file, exactly as a reopen would.
            let loaded: (store: NodeStore, keys: KeyIndex, pending: [UInt32], mapped: SnapshotFile.Mapped)
            do { loaded = try VectorCollection.load(snapshot: path, config: config, verify: false) } catch {
                logger(.error, "\(name): reloading the compacted snapshot failed: \(error); the collection is failed until reopened")
                state.withWriteLock { failure = failure ?? error }
                throw error
            }
            state.withWriteLock {
                store = loaded.store
                keys = loaded.keys
                pending = loaded.pending
                pendingHead = 0
                deletedCount = 0
                deletedSinceRepair = 0
                snapshot = loaded.mapped
                snapshotBytes = loaded.mapped.fileSize
                generation += 1
            }
        } else if !compact {
            state.withWriteLock { snapshotBytes = Int64(SnapshotFile.headerSize) + Int64(store.count * store.stride) }
        }
        let nodes = compact ? "\(before) → \(state.withReadLock { store.count }) nodes (compacted\(requested ? " on request" : ""))" : "\(before) nodes"
        logger(.info, "\(name): checkpoint at sequence \(seq): \(nodes) in \(ContinuousClock.now - started)")
    }

    /// The current contents without deleted records: repairs links into them first, copies the
    /// rest renumbered, and re-links anything the copy left unreachable. Returns the image, its
    /// pending (unindexed) nodes and its live count. `gate` and log leadership held.
    private func compactedImage() throws(StoreError) -> (NodeStore, [UInt32], Int) {
        let nodes = store.count
        var start = 0
        while start < nodes {
            let updates = HNSW.planRepair(store, range: start..<min(start + 1024, nodes))
            state.withWriteLock { for (id, l, list) in updates { store.setLinks(id, level: l, list) } }
            start += 1024
        }
        state.withWriteLock { HNSW.fixEntryPoint(store) }
        let image: NodeStore, newID: [UInt32?]
        do { (image, newID) = try store.compacted() } catch {
            throw StoreError.io(path: directory, operation: "compact (mmap)", errno: error)
        }
        let pendingIDs = pending[pendingHead...].compactMap { newID[Int($0)] }
        // Paths that only ran through deleted nodes are gone: re-insert what they stranded.
        var reached = [Bool](repeating: false, count: image.count)
        if let e = image.entryPoint { HNSW.markReachable(image, from: e, reached: &reached) }
        let scratch = SearchScratch(nodeCount: 0)
        for i in 0..<image.count where !reached[i] && image.usableLevel(UInt32(i)) >= 0 {
            let plan = HNSW.planInsert(image, id: UInt32(i), level: image.usableLevel(UInt32(i)),
                                       efConstruction: config.hnsw.efConstruction, scratch: scratch)
            try HNSW.apply(image, plan, assignLevel: false)
            HNSW.markReachable(image, from: UInt32(i), reached: &reached)
        }
        return (image, pendingIDs, image.count)
    }

    private func writeSnapshot(_ s: NodeStore, pending pendingIDs: [UInt32], liveCount live: Int, deletedCount deleted: Int,
                               seq: UInt64, path: String) throws(StoreError) {
        let table = KeyIndex.buildTable(store: s, liveCount: live)
        let header = SnapshotFile.Header(
            dimension: config.dimension, metric: config.metric, storage: config.storage, m: config.hnsw.m, stride: s.stride,
            nodeCount: s.count, liveCount: live, deletedCount: deleted, entryPoint: s.entryPoint,
            maxLevel: s.maxLevel, walSeq: seq, rngState: rng.state, upperWords: s.upperUsed, heapBytes: s.heapUsed,
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
