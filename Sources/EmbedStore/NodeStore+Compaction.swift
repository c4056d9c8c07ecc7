import EmbedSys

extension NodeStore {
    /// A copy holding only the nodes that are not deleted, renumbered in breadth-first graph
    /// order (see `breadthFirstOrder`), with links to dropped nodes removed and the upper
    /// layers and heap packed: what a checkpoint writes when deleted records have piled up (the
    /// reclaiming half of "delete") or when `VectorCollection.optimize` asks for it.
    ///
    /// Call after a repair pass (so live nodes no longer link to deleted ones and the entry
    /// point is live); links that still lead to deleted nodes are simply dropped.
    /// - Returns: the new store and the new id of each old one (nil when dropped).
    func compacted() throws(Errno) -> (NodeStore, [UInt32?]) {
        try renumbered(order: breadthFirstOrder())
    }

    /// A copy holding the nodes of `order` (old ids, each at most once), node `order[i]` as
    /// node i, links to nodes left out dropped. Unlinked (pending) nodes stay unlinked.
    func renumbered(order: [UInt32]) throws(Errno) -> (NodeStore, [UInt32?]) {
        var newID = [UInt32?](repeating: nil, count: count)
        for (i, old) in order.enumerated() { newID[Int(old)] = UInt32(i) }
        let out = try NodeStore(dimension: dimension, metric: metric, m: m, storage: storage)
        out.normBound2 = normBound2  // graph distances (lift) keep their scale
        for old in order {
            let id = try out.append(copyOf: old, from: self, key: keyBytes(old), metadata: payloadBytes(old))
            let top = usableLevel(old)
            guard top >= 0 else { continue }  // not linked yet: stays pending
            try out.assignLevel(id, level: top)
            for l in 0...top where hasLinks(old, level: l) {
                let list = linkList(old, level: l)
                let n = min(Int(list.pointee), maxLinks(level: l))
                out.setLinks(id, level: l, (0..<n).compactMap { j in Int(list[1 + j]) < count ? newID[Int(list[1 + j])] : nil })
            }
        }
        if let e = entryPoint, let mapped = newID[Int(e)] {
            out.entryPoint = mapped
            out.maxLevel = maxLevel
        }
        return (out, newID)
    }

    /// The live nodes in breadth-first order of the layer-0 graph from the entry point, then
    /// the live nodes the walk did not reach (unlinked ones among them) in id order: numbered
    /// this way, the neighbours a node first discovers get consecutive ids, so scoring a
    /// neighbour list touches fewer pages.
    func breadthFirstOrder() -> [UInt32] {
        var seen = [Bool](repeating: false, count: count)
        var order: [UInt32] = []
        order.reserveCapacity(count)
        if let e = entryPoint, Int(e) < count, !isDeleted(e) {
            seen[Int(e)] = true
            order.append(e)
            var head = 0
            while head < order.count {
                let c = order[head]
                head += 1
                let list = linkList(c, level: 0)
                for j in 0..<min(Int(list.pointee), maxLinks0) {
                    let o = list[1 + j]
                    guard Int(o) < count, !seen[Int(o)], !isDeleted(o) else { continue }
                    seen[Int(o)] = true
                    order.append(o)
                }
            }
        }
        for i in 0..<count where !seen[i] && !isDeleted(UInt32(i)) { order.append(UInt32(i)) }
        return order
    }
}
