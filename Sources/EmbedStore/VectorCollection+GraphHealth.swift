extension VectorCollection {
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
        state.lock.withReadLock {
            let s = state.store
            var h = GraphHealth(nodes: s.count, live: state.liveCount, pending: state.unindexed)
            let pendingSet = Set(state.pending[state.pendingHead...])
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
            if let key, let id = state.keys.lookup(key, in: s), Int(id) < s.count {
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
}
