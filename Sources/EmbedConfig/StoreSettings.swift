/// The `store:` section: how the vector store keeps every collection (read at start-up; a
/// reload that changes it takes effect on restart). A field left nil keeps the store's own
/// default (EmbedStore's `OpenOptions`, documented in docs/operations.md).
public struct StoreSettings: Sendable, Equatable {
    /// How a collection's snapshot checksums are checked when it opens.
    public enum Verification: String, Sendable, CaseIterable {
        /// Before the collection serves (reads the whole snapshot once).
        case full
        /// On a background thread; opening stays O(1).
        case background
        /// Header checks only.
        case header
    }

    public var verifyOnOpen: Verification? = nil
    /// Checkpoint a collection once its write-ahead log passes this many bytes.
    public var checkpointLogBytes: Int? = nil
    /// Bytes of log a collection keeps past checkpoints for mirrors behind them; a mirror
    /// further behind needs a fresh export.
    public var mirrorLogBytes: Int? = nil
    /// Writers wait while more acknowledged records than this are not yet in the graph.
    public var maxUnindexed: Int? = nil
    /// Compact at a checkpoint once this many slots are deleted…
    public var compactionMinDeleted: Int? = nil
    /// …and they are at least this fraction of all slots.
    public var compactionDeletedFraction: Double? = nil
    /// Searches re-rank `rerank_factor × k` candidates with exact distances.
    public var rerankFactor: Int? = nil
    /// Walk the graph on 8-bit codes (true) or on the f32 vectors (false).
    public var quantizedSearch: Bool? = nil

    /// Every field nil: the store's defaults.
    public init() {}
}
