import EmbedSys
import Synchronization

/// The records, graph and counters of one collection, with the two locks every part of the
/// collection shares to reach them (`VectorCollection` documents the order of all locks).
///
/// - `lock`: searches and readers hold it shared; a mutation holds it exclusively, and only
///   for memory updates — never across an fsync or a graph search.
/// - `gate`: held by the single mutator of the moment — the commit leader applying a batch
///   that needs memory to grow, the indexer linking or repairing, or a checkpoint.
///
/// Invariants behind `@unchecked Sendable`: every `var` is read under `lock` (shared or
/// exclusive) and written under it exclusively, by the current mutator; `rng` is used by
/// `gate`'s holder only. Two mutators may run at once: the commit leader appends nodes, keys
/// and tombstones (exclusive lock), while the indexer plans insertions holding `gate` but not
/// `lock`. That is safe because (1) only the indexer changes links, entry point and levels;
/// (2) nodes appended meanwhile are unreachable until the indexer links them; (3) tombstone
/// bits are single aligned words; (4) memory never moves while the indexer holds `gate`: a
/// leader whose batch needs the arrays to grow takes `gate` first (`applyCommitted`).
final class CollectionState: @unchecked Sendable {
    let lock = ReadWriteLock()
    let gate = ConditionLock()
    /// Commit leaders waiting for `gate`. A mutex is not fair: without this the indexer, which
    /// re-takes `gate` for every node, would starve writers (measured: 900 acknowledged
    /// upserts/s instead of tens of thousands). The indexer steps aside while it is non-zero.
    let appliersWaiting = Atomic<Int>(0)

    /// Replaced (exclusive lock, `gate` held) only by a compacting checkpoint.
    var store: NodeStore
    var keys: KeyIndex
    /// Bumped when a compaction renumbers the nodes (changed only with `gate` held), so
    /// background passes that span several `gate` sections notice and stop.
    var generation = 0
    /// Acknowledged nodes not yet linked into the graph, oldest first from `pendingHead`.
    var pending: [UInt32]
    var pendingHead = 0
    var liveCount = 0
    var deletedCount = 0
    var deletedSinceRepair = 0
    var snapshot: SnapshotFile.Mapped?
    var snapshotBytes: Int64 = 0
    var rng: SplitMix64
    /// Why every call is refused (damage found, indexing failed, closed), or nil.
    var failure: StoreError?
    /// Set when a log append failed other than for lack of space: writes are refused until
    /// the collection is reopened, reads go on — memory holds exactly the acknowledged writes,
    /// since a batch is applied only after its append succeeded.
    var writeFailure: StoreError?

    /// For error messages about memory (the collection's directory).
    private let directory: String

    init(store: NodeStore, keys: KeyIndex, pending: [UInt32], rng: SplitMix64, directory: String) {
        self.store = store
        self.keys = keys
        self.pending = pending
        self.rng = rng
        self.directory = directory
    }

    /// Records acknowledged but not yet linked (caller holds `lock`).
    var unindexed: Int { pending.count - pendingHead }

    /// `failure`, else `writeFailure`.
    var anyFailure: StoreError? { lock.withReadLock { failure ?? writeFailure } }

    /// Records `error` as the failure unless one is recorded already.
    func fail(_ error: StoreError) { lock.withWriteLock { failure = failure ?? error } }

    /// Waits while a commit leader waits for `gate` (the indexer, between its steps).
    func stepAsideForAppliers() {
        while appliersWaiting.load(ordering: .relaxed) > 0 { ChildProcess.sleep(seconds: 0.00002) }
    }

    /// Applies a committed batch (log leadership held) and returns each operation's affected
    /// count: under the exclusive lock, and under `gate` too when memory must grow.
    func applyCommitted(_ ops: [WriteOperation]) throws(StoreError) -> [Int] {
        var newNodes = 0, newBytes = 0
        for op in ops {
            if case .upsert(let records, _) = op {
                newNodes += records.count
                for r in records { newBytes += r.key.utf8.count + (r.metadata?.utf8.count ?? 0) }
            }
        }
        let apply = { () throws(StoreError) -> [Int] in
            try self.lock.withWriteLock { () throws(StoreError) -> [Int] in
                var affected: [Int] = []
                affected.reserveCapacity(ops.count)
                for op in ops { affected.append(try self.apply(op)) }
                return affected
            }
        }
        // `store` read without `lock`: only a checkpoint replaces it, and it holds leadership.
        if store.needsGrowth(nodes: newNodes, heapBytes: newBytes) {
            // Growing moves memory: wait until the indexer is between steps.
            appliersWaiting.add(1, ordering: .relaxed)
            defer { appliersWaiting.subtract(1, ordering: .relaxed) }
            return try gate.withLock { () throws(StoreError) -> [Int] in try apply() }
        }
        return try apply()
    }

    /// Applies one operation (exclusive lock held, or during open) and returns how many
    /// records it affected.
    /// - Complexity: O(r · d) for r records of dimension d (an amortised O(1) key lookup and
    ///   append each).
    func apply(_ op: WriteOperation) throws(StoreError) -> Int {
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
                        return try store.append(vector: v, invNorm: inv, key: r.key.utf8, metadata: RecordPayload.encode(metadata: r.metadata, document: r.document))
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
}
