import EmbedSys

/// The query path of one collection: argument checks, the graph walk (on 8-bit codes, then
/// re-ranked exactly), filters, the exact scan of records not yet indexed, and the exact
/// fallback when the graph cannot answer. Runs under the collection state's shared lock, so
/// any number of searches run concurrently with each other and with writers.
///
/// Invariants behind `@unchecked Sendable`: `scratchPool` is guarded by `scratchLock`; a
/// scratch is used by one search at a time (taken from the pool, returned after).
final class Searcher: @unchecked Sendable {
    private let scratchLock = ConditionLock()
    private var scratchPool: [SearchScratch] = []

    private let state: CollectionState
    private let config: CollectionConfig
    private let options: OpenOptions
    private let name: String

    init(state: CollectionState, config: CollectionConfig, options: OpenOptions, name: String) {
        self.state = state
        self.config = config
        self.options = options
        self.name = name
    }

    /// See `VectorCollection.search`.
    func search(_ query: [Float], k: Int, ef: Int?, filter: MetadataFilter?, resultBytesLimit: Int) throws(StoreError) -> [SearchHit] {
        try check(query, k: k, ef: ef, filter: filter)
        if let filter, filter.isEmpty { return try search(query, k: k, ef: ef, filter: nil, resultBytesLimit: resultBytesLimit) }
        let scratch = takeScratch()
        defer { returnScratch(scratch) }
        return try state.lock.withReadLock { () throws(StoreError) -> [SearchHit] in
            // No scan limit: never nil.
            try searchShared(query, k: k, ef: ef, filter: filter, resultBytesLimit: resultBytesLimit, scratch: scratch) ?? []
        }
    }

    /// See `VectorCollection.searchIfQuick`.
    func searchIfQuick(_ query: [Float], k: Int, ef: Int?, maxUnindexed: Int, resultBytesLimit: Int) throws(StoreError) -> [SearchHit]? {
        try check(query, k: k, ef: ef, filter: nil)
        let scratch = takeScratch()
        defer { returnScratch(scratch) }
        return try state.lock.withReadLockIfFree { () throws(StoreError) -> [SearchHit]? in
            guard state.unindexed <= maxUnindexed else { return nil }
            return try searchShared(query, k: k, ef: ef, filter: nil, resultBytesLimit: resultBytesLimit, scratch: scratch,
                                    exactScanLimit: maxUnindexed)
        } ?? nil
    }

    private func check(_ query: [Float], k: Int, ef: Int?, filter: MetadataFilter?) throws(StoreError) {
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

    /// The search proper; the caller holds the state's lock shared. nil only when an exact scan
    /// of more than `exactScanLimit` nodes would be needed.
    private func searchShared(_ query: [Float], k: Int, ef: Int?, filter: MetadataFilter?, resultBytesLimit: Int,
                              scratch: SearchScratch, exactScanLimit: Int = .max) throws(StoreError) -> [SearchHit]? {
        if let failure = state.failure { throw failure }
        let s = state.store
        let prepared = s.prepare(query: query)
        let searched = prepared.withUnsafeBufferPointer { qb in
            nearest(qb.baseAddress!, k: k, ef: max(ef ?? config.hnsw.ef, k), filter: filter, scratch: scratch,
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
            let hit = SearchHit(key: s.key(id), score: config.metric.score(fromDistance: distance), metadata: s.metadata(id),
                                document: s.document(id))
            bytes += hit.key.utf8.count + (hit.metadata?.utf8.count ?? 0) + (hit.document?.utf8.count ?? 0) + 24
            if bytes > resultBytesLimit {
                throw .resultTooLarge("the \(found.count) hits of this search hold more than \(resultBytesLimit) bytes of keys, "
                                      + "metadata and documents (after \(hits.count) hits); ask for fewer (smaller k, fewer queries per call)")
            }
            hits.append(hit)
        }
        return hits
    }

    /// The `k` nearest (distance, id) pairs, nearest first (shared lock held).
    private func nearest(_ q: UnsafePointer<Float>, k: Int, ef: Int, filter: MetadataFilter?, scratch: SearchScratch,
                         exactScanLimit: Int = .max) -> [(Float, UInt32)]? {
        let s = state.store
        // Without deletions or a filter every node is a result: the walk then never reads a
        // visited node's header (one cache miss per accepted candidate).
        let accept: ((UInt32) -> Bool)?
        if let filter {
            // Without deletions the header need not be read: one cache miss less per test.
            if state.deletedCount > 0 {
                accept = { !s.isDeleted($0) && filter.matches(s.metadataBytes($0)) }
            } else {
                accept = { filter.matches(s.metadataBytes($0)) }
            }
        } else if state.deletedCount > 0 {
            accept = { !s.isDeleted($0) }
        } else {
            accept = nil
        }
        let liveCount = state.liveCount
        var exact = liveCount <= k
        if let filter, !exact {
            // A narrow filter would make the walk visit about ef / selectivity nodes (most of
            // the graph) to collect ef matches: then scan exactly, which costs one filter test
            // per node and a distance per match (docs/storage.md, "Filters").
            let threshold = Self.exactScanMatchesPerEf * ef
            exact = Self.prefersExactScan(estimatedMatches: estimatedMatches(filter, liveCount: liveCount, deciding: threshold), ef: ef)
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
                    let (cur, curD) = HNSW.descend(s, query: q, from: entry, to: 0, measure: .quantized(qq))
                    if let filter {
                        walked = FilteredWalk.walk(s, filter, qq, entries: [(curD, cur)], ef: ef, skipDeleted: state.deletedCount > 0,
                                                   beam: s.searchBeam, scratch: scratch)
                    } else {
                        walked = s.walkLayer0(qq, entries: [(curD, cur)], ef: ef, skipDeleted: accept != nil, beam: s.searchBeam,
                                              scratch: scratch)
                    }
                    if walked == nil {
                        HNSW.searchLayer(s, query: q, entries: [(curD, cur)], ef: ef, level: 0, scratch: scratch,
                                         measure: .quantized(qq), accept: accept, readsMetadata: filter != nil)
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
                let (cur, curD) = HNSW.descend(s, query: q, from: entry, to: 0, measure: .exact)
                HNSW.searchLayer(s, query: q, entries: [(curD, cur)], ef: ef, level: 0, scratch: scratch, measure: .exact, accept: accept,
                                 readsMetadata: filter != nil)
                results = scratch.results.sortedAscending()
            }
            if results.count > k { results.removeLast(results.count - k) }
        }
        if !exact {
            for i in state.pendingHead..<state.pending.count {
                let id = state.pending[i]
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

    /// Filtered searches scan exactly when the filter is estimated to match fewer than this
    /// many records per unit of ef (bench/filter measured the crossing; docs/storage.md).
    static let exactScanMatchesPerEf = 4
    /// The selectivity sample stops after a run that brings it to this many matches (enough
    /// for the estimate's purpose: the decision is needed near 4 × ef matches, where a sample
    /// of this size sees far fewer) …
    static let sampleMatches = 16
    /// … or after this many ids (read in runs of `sampleRun`).
    static let sampleSize = 1024
    static let sampleRun = 32

    /// Whether an exact scan beats the graph walk for a filter matching about `estimatedMatches`
    /// records: the walk visits about ef / selectivity nodes (each a distance and a filter
    /// test) to gather ef matches, the scan tests the filter on every node once.
    static func prefersExactScan(estimatedMatches: Int, ef: Int) -> Bool {
        estimatedMatches < exactScanMatchesPerEf * ef
    }

    /// How many live records `filter` matches: counted exactly in collections of up to
    /// `sampleSize` nodes, else estimated from runs of `sampleRun` consecutive ids (their
    /// records and metadata lie together: a few cache lines per run) at starts spread over the
    /// id range (a golden-ratio sequence, so the runs are spread however early the sample
    /// stops), until a run ends with `sampleMatches` matches or `sampleSize` ids were read —
    /// or, given the count being decided on (`deciding`), with 4 matches or more and an
    /// estimate of at least twice that count (at 1 % selectivity and ef 10, after ~400 ids).
    func estimatedMatches(_ filter: MetadataFilter, liveCount: Int, deciding: Int = .max) -> Int {
        let s = state.store
        let n = s.count
        let deletions = state.deletedCount > 0
        var live = 0, matched = 0
        if n <= Self.sampleSize {
            for i in 0..<n where !(deletions && s.isDeleted(UInt32(i))) {
                live += 1
                if filter.matches(s.metadataBytes(UInt32(i))) { matched += 1 }
            }
        } else {
            var x: UInt64 = 0, read = 0
            while read < Self.sampleSize && matched < Self.sampleMatches
                    && !(matched >= 4 && Double(matched) * Double(liveCount) >= 2 * Double(deciding) * Double(live)) {
                x &+= 0x9E37_79B9_7F4A_7C15
                let start = Int(x.multipliedFullWidth(by: UInt64(n - Self.sampleRun)).high)
                for i in start..<(start + Self.sampleRun) where !(deletions && s.isDeleted(UInt32(i))) {
                    live += 1
                    if filter.matches(s.metadataBytes(UInt32(i))) { matched += 1 }
                }
                read += Self.sampleRun
            }
        }
        if live == 0 { return 0 }
        return Int((Double(matched) / Double(live) * Double(liveCount)).rounded())
    }

    private func takeScratch() -> SearchScratch {
        scratchLock.withLock { scratchPool.popLast() } ?? SearchScratch(nodeCount: 0)
    }

    private func returnScratch(_ s: SearchScratch) {
        scratchLock.withLock { scratchPool.append(s) }
    }
}
