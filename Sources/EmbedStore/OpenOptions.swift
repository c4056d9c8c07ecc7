/// Tuning knobs for an open collection (not stored on disk).
public struct OpenOptions: Sendable {
    /// How section checksums of the snapshot are verified at open.
    public enum Verification: Sendable {
        /// Before `open` returns (reads the whole snapshot once).
        case full
        /// On a background thread; `open` stays O(1). Damage found later puts the collection
        /// into the failed state (every call throws, naming the file) — never wrong answers
        /// once detected. The default.
        case background
        /// Header checks only (structure is still bounds-checked during searches).
        case headerOnly
    }

    public var verification: Verification
    /// Checkpoint automatically when the log grows past this many bytes.
    public var checkpointLogBytes: Int64
    /// Writers wait while more than this many acknowledged records are not yet in the graph
    /// (they are searched exactly until then, so the bound keeps searches fast).
    public var maxUnindexed: Int
    /// Seed for HNSW level generation of a new collection.
    public var seed: UInt64
    /// Walk the graph on 8-bit codes and re-rank exactly (true), or on f32 vectors (false).
    public var quantizedSearch: Bool
    /// With `quantizedSearch`, how many of the walk's best candidates (by code distance) are
    /// re-ranked exactly: `rerankFactor × k`, at most ef (Qdrant's "oversampling"). 2 keeps
    /// recall@10 within 0.0002 of re-ranking all ef candidates on the bench sets
    /// (bench/NOTES.md) at a fraction of the f32 reads; `Int.max` re-ranks all of them.
    public var rerankFactor: Int
    /// Deleted and replaced records keep their slots (as tombstones the graph still routes
    /// through) until a checkpoint compacts them away: it does once at least this many are
    /// deleted and they make up `compactionDeletedFraction` of all slots. The background
    /// thread checkpoints as soon as both hold, so a collection rewritten over and over stays
    /// near its live size on disk and in memory.
    public var compactionMinDeleted: Int
    /// See `compactionMinDeleted`.
    public var compactionDeletedFraction: Double
    /// Bytes of log kept past checkpoints for mirrors behind them (`retained/` segments). A
    /// mirror whose cursor falls behind what this keeps is stale and needs a fresh export.
    public var mirrorLogBytes: Int64
    /// Told the duration (ns) of every group commit's write + fdatasync of the log, on the
    /// writer's thread, after it (failed ones too). For monitoring: a server's metrics histogram
    /// (the store does not depend on the server; it only calls this). Must be quick.
    public var logSyncObserver: (@Sendable (_ nanoseconds: UInt64) -> Void)?

    public init(verification: Verification = .background, checkpointLogBytes: Int64 = 256 << 20,
                maxUnindexed: Int = 50_000, seed: UInt64 = 0x5EED, quantizedSearch: Bool = true,
                rerankFactor: Int = 2, compactionMinDeleted: Int = 1000, compactionDeletedFraction: Double = 0.3,
                mirrorLogBytes: Int64 = 4 << 30) {
        self.mirrorLogBytes = max(0, mirrorLogBytes)
        self.compactionMinDeleted = compactionMinDeleted
        self.compactionDeletedFraction = compactionDeletedFraction
        self.quantizedSearch = quantizedSearch
        self.rerankFactor = max(1, rerankFactor)
        self.verification = verification
        self.checkpointLogBytes = checkpointLogBytes
        self.maxUnindexed = maxUnindexed
        self.seed = seed
        self.logSyncObserver = nil
    }
}
