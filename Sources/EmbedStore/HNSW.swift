/// The HNSW algorithms of Malkov & Yashunin over a `NodeStore`: layered greedy descent,
/// best-first beam search per layer, the neighbour-selection heuristic, insertion planned
/// under the shared lock and applied under the exclusive one, and FreshDiskANN-style repair
/// of links into deleted nodes.
enum HNSW {
    /// How a walk scores the nodes it visits. Chosen once per walk: each case runs its own
    /// specialised copy of the walk (see `Scorer`), so the hot loop never tests it.
    enum Measure {
        /// Exact distance to a search's prepared query.
        case exact
        /// Construction distance to a node being inserted, ranked in the lifted space that
        /// inner product builds in (`NodeStore.graphDistance`, `lift` the node's own).
        case construction(lift: Float)
        /// The 8-bit-code approximation (`NodeStore.approximateDistance`): a quarter of the
        /// memory traffic; callers re-rank what it finds exactly.
        case quantized(QuantizedQuery)
    }

    /// Layered greedy descent (ef = 1 on each layer) from `entry` (the entry point) through the
    /// layers above `level`: where a search starts its layer-0 walk and an insertion its first
    /// linked layer. Returns the node reached and its distance under `measure`.
    /// - Complexity: O(L · M · d) for the L = O(log n) layers above `level` (a few greedy
    ///   steps of up to M neighbours each).
    static func descend(_ s: NodeStore, query q: UnsafePointer<Float>, from entry: UInt32, to level: Int,
                        measure: Measure) -> (UInt32, Float) {
        switch measure {
        case .exact: return descend(s, query: q, from: entry, to: level, ExactScorer())
        case .construction(let lift): return descend(s, query: q, from: entry, to: level, ConstructionScorer(lift: lift))
        case .quantized(let codes): return descend(s, query: q, from: entry, to: level, QuantizedScorer(query: codes))
        }
    }

    private static func descend<S: Scorer>(_ s: NodeStore, query q: UnsafePointer<Float>, from entry: UInt32, to level: Int,
                                           _ scorer: S) -> (UInt32, Float) {
        var current = entry
        var best = scorer.distance(s, q, entry)
        let count = UInt32(s.count)
        var l = s.maxLevel
        while l > level {
            var changed = true
            while changed {
                changed = false
                guard s.hasLinks(current, level: l) else { break }
                let list = s.linkList(current, level: l)
                let n = min(Int(list.pointee), s.maxLinks(level: l))
                // All neighbours' data requested at once: their misses overlap instead of each
                // distance waiting for its own.
                for j in 1...max(n, 1) where j <= n && list[j] < count { scorer.prefetchAll(s, list[j]) }
                for j in 1...max(n, 1) where j <= n {
                    let other = list[j]
                    guard other < count else { continue }
                    let d = scorer.distance(s, q, other)
                    if d < best {
                        best = d
                        current = other
                        changed = true
                    }
                }
            }
            l -= 1
        }
        return (current, best)
    }

    /// Best-first search of `level` from `entries`; leaves up to `ef` accepted nodes in
    /// `scratch.results` (a max-heap). `accept` decides which visited nodes may be results —
    /// rejected ones are still traversed, which keeps filtered searches connected; nil accepts
    /// every node without reading it (no deletions, no filter).
    /// - Complexity: O(ef · M · d) distance work in practice (each expanded candidate scores
    ///   its up to M unvisited neighbours); O(n · M · d) at worst, when `accept` rejects nearly
    ///   everything and the walk visits the whole layer.
    /// - Parameter readsMetadata: `accept` reads each node's metadata (a filter): its record
    ///   entry and first heap line are then prefetched with the vectors of a candidate's fresh
    ///   neighbours, so those two dependent misses overlap instead of stalling each test.
    static func searchLayer(_ s: NodeStore, query q: UnsafePointer<Float>, entries: [(Float, UInt32)], ef: Int, level: Int,
                            scratch: SearchScratch, measure: Measure, accept: ((UInt32) -> Bool)?, readsMetadata: Bool = false) {
        switch measure {
        case .exact:
            searchLayer(s, query: q, entries: entries, ef: ef, level: level, scratch: scratch, ExactScorer(), accept: accept,
                        readsMetadata: readsMetadata)
        case .construction(let lift):
            searchLayer(s, query: q, entries: entries, ef: ef, level: level, scratch: scratch, ConstructionScorer(lift: lift), accept: accept,
                        readsMetadata: readsMetadata)
        case .quantized(let codes):
            searchLayer(s, query: q, entries: entries, ef: ef, level: level, scratch: scratch, QuantizedScorer(query: codes), accept: accept,
                        readsMetadata: readsMetadata)
        }
    }

    private static func searchLayer<S: Scorer>(_ s: NodeStore, query q: UnsafePointer<Float>, entries: [(Float, UInt32)], ef: Int,
                                               level: Int, scratch: SearchScratch, _ scorer: S, accept: ((UInt32) -> Bool)?,
                                               readsMetadata: Bool) {
        // One reading of the node count: the indexer may plan while writers append nodes, and
        // the visited marks must cover every id this search accepts.
        let count = UInt32(s.count)
        let visited = scratch.visited
        visited.reset(nodeCount: Int(count))
        // Work on local heaps (swapped back at the end): no exclusivity checks or
        // copy-on-write tests on the class's stored properties in the hot loop.
        var candidates = NeighborHeap(max: false)
        var results = NeighborHeap(max: true)
        var fresh: [UInt32] = []
        swap(&candidates, &scratch.candidates)
        swap(&results, &scratch.results)
        swap(&fresh, &scratch.fresh)
        defer {
            swap(&candidates, &scratch.candidates)
            swap(&results, &scratch.results)
            swap(&fresh, &scratch.fresh)
        }
        candidates.removeAll()
        results.removeAll()
        for (d, id) in entries {
            guard id < count, visited.insert(id) else { continue }
            candidates.push(d, id)
            if accept?(id) ?? true { results.push(d, id) }
        }
        while results.count > ef { results.pop() }
        let maxLinks = s.maxLinks(level: level)
        while !candidates.isEmpty {
            let (d, c) = (candidates.topDistance, candidates.topID)
            if results.count >= ef && d > results.topDistance { break }
            candidates.pop()
            // The next candidate is most often the current runner-up: start loading its links
            // now, so they arrive while this one's neighbours are scored.
            if level == 0 && !candidates.isEmpty { s.prefetchLinks(candidates.topID) }
            guard s.hasLinks(c, level: level) else { continue }
            let list = s.linkList(c, level: level)
            let n = min(Int(list.pointee), maxLinks)
            // First the neighbours not seen yet, with their data prefetched all at once (the
            // loads overlap instead of one miss after another), then their distances.
            fresh.removeAll(keepingCapacity: true)
            for j in stride(from: 1, through: n, by: 1) {
                let other = list[j]
                guard other < count, visited.insert(other) else { continue }
                scorer.prefetchStart(s, other)
                if readsMetadata { s.prefetchRecord(other) }
                fresh.append(other)
            }
            if readsMetadata { for other in fresh { s.prefetchKey(other) } }
            for other in fresh {
                let dn = scorer.distance(s, q, other)
                if results.count < ef || dn < results.topDistance {
                    candidates.push(dn, other)
                    if accept?(other) ?? true {
                        results.push(dn, other)
                        if results.count > ef { results.pop() }
                    }
                }
            }
        }
    }

    /// The neighbour-selection heuristic (paper's Algorithm 4, as in hnswlib): walking the
    /// candidates nearest first, keep one only if it is closer to the base than to every
    /// neighbour already kept — this spreads links across directions.
    static func selectNeighbors(_ s: NodeStore, candidates: [(Float, UInt32)], max: Int) -> [UInt32] {
        if candidates.count <= max { return candidates.map(\.1) }
        var kept: [UInt32] = []
        kept.reserveCapacity(max)
        for (d, c) in candidates {
            if kept.count >= max { break }
            var good = true
            for k in kept where s.distance(c, k) < d {
                good = false
                break
            }
            if good { kept.append(c) }
        }
        return kept
    }

    /// What inserting one node changes: its level and links, and new link lists of neighbours.
    struct InsertPlan {
        var id: UInt32
        var level: Int
        var links: [[UInt32]]                  // per level 0…min(level, maxLevel)
        var updates: [(UInt32, Int, [UInt32])] // (neighbour, level, new list)
        /// The graph walk reached no live node and neighbours came from an exact scan: the
        /// entry point leads only through deleted nodes, which a repair pass should fix.
        var scanned = false
    }

    /// Plans the insertion of `id` at `level` (shared lock held; the plan stays valid because
    /// only the single indexer changes links): the upsert half of the graph.
    /// - Complexity: expected O(log n · M · d) for the descent, plus per layer the node joins
    ///   (1 + 1/(M − 1) expected) a beam search of width efConstruction and the heuristic over
    ///   its candidates and over each full neighbour list it enters (O(M² · d) each). O(n · d)
    ///   more when the walk reaches no live node and falls back to a scan.
    static func planInsert(_ s: NodeStore, id: UInt32, level: Int, efConstruction: Int, scratch: SearchScratch) -> InsertPlan {
        var plan = InsertPlan(id: id, level: level, links: [], updates: [])
        guard let entry = s.entryPoint else { return plan }
        let query = s.preparedVector(id)
        query.withUnsafeBufferPointer { qb in
            let q = qb.baseAddress!
            let qt = s.lift(id)
            // Walk on the 8-bit codes (as searches do: a quarter of the bytes per neighbour),
            // then rank what the walk found by exact distance before choosing links. Inner
            // product builds in the lifted space, which the codes do not represent: exact walk.
            let codes = s.metric == .innerProduct ? nil : s.ownQuantizedQuery(id)
            let measure: Measure = codes.map { .quantized($0) } ?? .construction(lift: qt)
            let (cur, curD) = descend(s, query: q, from: entry, to: level, measure: measure)
            var entries = [(curD, cur)]
            var perLevel = [[UInt32]](repeating: [], count: min(level, s.maxLevel) + 1)
            for lc in stride(from: min(level, s.maxLevel), through: 0, by: -1) {
                let walked: [(Float, UInt32)]
                if lc == 0, let codes, let w = s.walkLayer0(codes, entries: entries, ef: efConstruction, skipDeleted: true,
                                                            excluding: id, scratch: scratch) {
                    walked = w  // the bottom layer, where most of the time goes, in C as searches do
                } else {
                    searchLayer(s, query: q, entries: entries, ef: efConstruction, level: lc, scratch: scratch,
                                measure: measure) { !s.isDeleted($0) && $0 != id }
                    walked = scratch.results.sortedAscending()
                }
                var found = codes == nil ? walked
                    : walked.map { (s.graphDistance(q, lift: qt, $0.1), $0.1) }.sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
                if found.isEmpty {
                    // Everything the walk reached is deleted (the entry point sits in a region
                    // of tombstones). Linking the node to nothing would strand it, and every
                    // node inserted after it: take the nearest live linked nodes exactly.
                    found = nearestByScan(s, query: q, lift: qt, level: lc, limit: efConstruction, excluding: id)
                    plan.scanned = plan.scanned || !found.isEmpty
                }
                perLevel[lc] = selectNeighbors(s, candidates: found, max: s.m)
                if !walked.isEmpty {
                    entries = walked
                } else if !found.isEmpty {  // from the exact scan: re-express in the walk's distance
                    entries = found.map { pair in (codes.map { s.approximateDistance($0, pair.1) } ?? pair.0, pair.1) }
                }
            }
            plan.links = perLevel
            for lc in 0..<perLevel.count {
                let cap = s.maxLinks(level: lc)
                for n in perLevel[lc] where s.hasLinks(n, level: lc) {
                    let list = s.linkList(n, level: lc)
                    let count = min(Int(list.pointee), cap)
                    var current = (0..<count).map { list[1 + $0] }
                    if count < cap {
                        current.append(id)
                        plan.updates.append((n, lc, current))
                    } else {
                        var cands = current.filter { Int($0) < s.count }.map { (s.distance(n, $0), $0) }
                        cands.append((s.distance(n, id), id))
                        cands.sort { $0.0 < $1.0 }
                        plan.updates.append((n, lc, selectNeighbors(s, candidates: cands, max: cap)))
                    }
                }
            }
        }
        return plan
    }

    /// The `limit` live nodes nearest to `q` (construction distance) among those linked at
    /// `level`, by exact scan: the fallback when a graph walk reaches no live node.
    static func nearestByScan(_ s: NodeStore, query q: UnsafePointer<Float>, lift qt: Float, level: Int, limit: Int,
                              excluding id: UInt32) -> [(Float, UInt32)] {
        var heap = NeighborHeap(max: true, capacity: limit + 1)
        for i in 0..<s.count {
            let other = UInt32(i)
            guard other != id, s.level(other) >= level, !s.isDeleted(other) else { continue }
            let d = s.graphDistance(q, lift: qt, other)
            if heap.count < limit { heap.push(d, other) } else if d < heap.topDistance { heap.pop(); heap.push(d, other) }
        }
        return heap.sortedAscending()
    }

    /// Applies a plan (exclusive lock held). `assignLevel` is false when re-linking a node
    /// that already has its level and upper-layer blocks.
    static func apply(_ s: NodeStore, _ plan: InsertPlan, assignLevel: Bool = true) throws(StoreError) {
        if assignLevel {
            do { try s.assignLevel(plan.id, level: plan.level) } catch {
                throw StoreError.io(path: "(memory)", operation: "mmap", errno: error)
            }
        }
        for (lc, links) in plan.links.enumerated() { s.setLinks(plan.id, level: lc, links) }
        for (n, lc, list) in plan.updates { s.setLinks(n, level: lc, list) }
        if s.entryPoint == nil || plan.level > s.maxLevel {
            s.entryPoint = plan.id
            s.maxLevel = plan.level
        }
    }

    /// New link lists for nodes in `range` that point at deleted nodes: live neighbours plus
    /// the live neighbours of each deleted one, pruned by the heuristic (FreshDiskANN's
    /// consolidation), so the graph stays navigable however many records are deleted: the
    /// delete half of the graph (a delete itself only sets a tombstone bit).
    /// - Complexity: O(|range| · M) to find affected lists; O(M² · d) per affected list (a
    ///   two-hop pool of up to M² candidates, then the heuristic).
    static func planRepair(_ s: NodeStore, range: Range<Int>) -> [(UInt32, Int, [UInt32])] {
        var updates: [(UInt32, Int, [UInt32])] = []
        let count = UInt32(s.count)
        for idx in range {
            let id = UInt32(idx)
            let top = s.usableLevel(id)
            if top < 0 || s.isDeleted(id) { continue }
            for lc in 0...top where s.hasLinks(id, level: lc) {
                let cap = s.maxLinks(level: lc)
                let list = s.linkList(id, level: lc)
                let n = min(Int(list.pointee), cap)
                var hasDeleted = false
                for j in 0..<n where list[1 + j] >= count || s.isDeleted(list[1 + j]) { hasDeleted = true; break }
                if !hasDeleted { continue }
                var seen = Set<UInt32>([id])
                var cands: [(Float, UInt32)] = []
                for j in 0..<n {
                    let other = list[1 + j]
                    guard other < count else { continue }
                    if !s.isDeleted(other) {
                        if seen.insert(other).inserted { cands.append((s.distance(id, other), other)) }
                    } else if s.hasLinks(other, level: lc) {
                        let second = s.linkList(other, level: lc)
                        let m2 = min(Int(second.pointee), cap)
                        for k in 0..<m2 {
                            let o2 = second[1 + k]
                            if o2 < count, !s.isDeleted(o2), seen.insert(o2).inserted {
                                cands.append((s.distance(id, o2), o2))
                            }
                        }
                    }
                }
                cands.sort { $0.0 < $1.0 }
                // Heuristic first; then top up with the nearest pruned candidates up to the
                // node's previous link count, so a repaired node keeps its out-degree (the
                // heuristic alone over a 2-hop pool prunes harder than the original build did).
                var kept = selectNeighbors(s, candidates: cands, max: cap)
                if kept.count < n {
                    var inKept = Set(kept)
                    for (_, c) in cands where kept.count < n && inKept.insert(c).inserted { kept.append(c) }
                }
                updates.append((id, lc, kept))
            }
        }
        return updates
    }

    /// After a repair pass: if the entry point is deleted, or has no layer-0 links while
    /// other live nodes are linked, pick the live linked node with the highest level,
    /// preferring one with layer-0 links (exclusive lock held).
    static func fixEntryPoint(_ s: NodeStore) {
        guard let e = s.entryPoint else { return }
        if !s.isDeleted(e) && s.linkList(e, level: 0).pointee > 0 { return }
        var best: UInt32? = nil, bestLevel = -1, bestConnected = false
        for idx in 0..<s.count {
            let id = UInt32(idx)
            let l = s.usableLevel(id)
            guard l >= 0, !s.isDeleted(id) else { continue }
            let connected = s.linkList(id, level: 0).pointee > 0
            if (connected && !bestConnected) || (connected == bestConnected && l > bestLevel) {
                best = id; bestLevel = l; bestConnected = connected
            }
        }
        if best == e { return }
        s.entryPoint = best
        s.maxLevel = best == nil ? -1 : bestLevel
    }

    /// Which nodes layer 0 reaches from the entry point (through deleted nodes too, as
    /// searches walk), indexed by node id.
    /// - Complexity: O(n + n · M).
    static func reachableFromEntry(_ s: NodeStore) -> [Bool] {
        var reached = [Bool](repeating: false, count: s.count)
        if let e = s.entryPoint { markReachable(s, from: e, reached: &reached) }
        return reached
    }

    /// Re-inserts the live linked nodes that `reached` does not mark, so every indexed record
    /// stays findable (a node whose in-links all ran through deleted nodes loses them all in a
    /// repair or a compaction). One insertion per stranded island: each re-inserted node's
    /// island is marked before the next unmarked node is looked at.
    ///
    /// `exclusively` runs each re-insertion with the caller's locks held (the single mutator's),
    /// or returns false without running it to stop early; `apply` writes a plan (under the
    /// exclusive lock where searches run concurrently). Returns how many nodes were re-inserted.
    /// - Complexity: O(n) to find them, plus one insertion (O(efConstruction · M · d)) per island.
    static func relinkStranded(_ s: NodeStore, reached: inout [Bool], efConstruction: Int, scratch: SearchScratch,
                               exclusively: (() throws(StoreError) -> Void) throws(StoreError) -> Bool = { body throws(StoreError) in try body(); return true },
                               apply: (InsertPlan) throws(StoreError) -> Void) throws(StoreError) -> Int {
        var relinked = 0
        // `apply` is only called within `exclusively`'s call, never kept.
        try withoutActuallyEscaping(apply) { apply throws(StoreError) in
            for i in 0..<reached.count where !reached[i] {
                let going = try exclusively { () throws(StoreError) in
                    let id = UInt32(i)
                    let level = s.isDeleted(id) || s.entryPoint == nil ? -1 : s.usableLevel(id)
                    guard level >= 0, !reached[i] else { return }
                    try apply(planInsert(s, id: id, level: level, efConstruction: efConstruction, scratch: scratch))
                    markReachable(s, from: id, reached: &reached)
                    relinked += 1
                }
                if !going { break }
            }
        }
        return relinked
    }

    /// Marks every node layer 0 reaches from `start` (through deleted nodes too, as searches
    /// walk), skipping nodes already marked.
    static func markReachable(_ s: NodeStore, from start: UInt32, reached: inout [Bool]) {
        guard Int(start) < reached.count, !reached[Int(start)] else { return }
        reached[Int(start)] = true
        var stack = [start]
        while let c = stack.popLast() {
            let list = s.linkList(c, level: 0)
            for j in 0..<min(Int(list.pointee), s.maxLinks0) {
                let o = list[1 + j]
                if Int(o) < reached.count && !reached[Int(o)] {
                    reached[Int(o)] = true
                    stack.append(o)
                }
            }
        }
    }
}
