import CStoreKernels

/// A filtered search's layer-0 walk: the C walk of unfiltered searches (`esk_walk_layer0`,
/// none of `HNSW.searchLayer`'s per-hop overhead) with the filter as its `accept` callback.
/// The walk also prefetches, with each neighbour's codes, the record entry and first metadata
/// line the filter will read, so those two dependent cache misses overlap other work.
enum FilteredWalk {
    /// What the callback receives. Unretained: the store and the plan outlive the walk (the
    /// caller holds the collection's shared lock and the filter), and a test then costs no
    /// reference counting.
    private struct Context {
        let store: Unmanaged<NodeStore>
        let tables: FilterPlan.Tables
    }

    private static let accept: @convention(c) (UnsafeMutableRawPointer?, UInt32) -> Int32 = { ctx, id in
        let c = ctx.unsafelyUnwrapped.assumingMemoryBound(to: Context.self)
        let bytes = c.pointee.store._withUnsafeGuaranteedRef { $0.metadataBytes(id) }
        return c.pointee.tables.matches(bytes) ? 1 : 0
    }

    /// `NodeStore.walkLayer0` keeping only the nodes `filter` matches (deleted ones excluded
    /// when `skipDeleted`); nil when the C walk cannot take this graph.
    static func walk(_ s: NodeStore, _ filter: MetadataFilter, _ q: QuantizedQuery, entries: [(Float, UInt32)], ef: Int,
                     skipDeleted: Bool, beam: Int, scratch: SearchScratch) -> [(Float, UInt32)]? {
        var context = Context(store: Unmanaged.passUnretained(s), tables: filter.plan.tables)
        return withUnsafeMutablePointer(to: &context) { ctx in
            var f = esk_walk_filter(accept: accept, ctx: UnsafeMutableRawPointer(ctx),
                                    records: UnsafePointer(s.records.base.assumingMemoryBound(to: UInt8.self)),
                                    record_bytes: NodeStore.recordBytes,
                                    heap: UnsafePointer(s.heap.base.assumingMemoryBound(to: UInt8.self)))
            return withUnsafePointer(to: &f) { fp in
                s.walkLayer0(q, entries: entries, ef: ef, skipDeleted: skipDeleted, beam: beam, filter: fp, scratch: scratch)
            }
        }
    }
}
