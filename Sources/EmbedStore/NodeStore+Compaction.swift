import EmbedSys

extension NodeStore {
    /// A copy holding only the nodes that are not deleted, renumbered in order, with links to
    /// dropped nodes removed and the upper layers and heap packed: what a checkpoint writes
    /// when deleted records have piled up (the reclaiming half of "delete").
    ///
    /// Call after a repair pass (so live nodes no longer link to deleted ones and the entry
    /// point is live); links that still lead to deleted nodes are simply dropped.
    /// - Returns: the new store and the new id of each old one (nil when dropped).
    func compacted() throws(Errno) -> (NodeStore, [UInt32?]) {
        var newID = [UInt32?](repeating: nil, count: count)
        var kept = 0
        for i in 0..<count where !isDeleted(UInt32(i)) {
            newID[i] = UInt32(kept)
            kept += 1
        }
        let out = try NodeStore(dimension: dimension, metric: metric, m: m)
        out.normBound2 = normBound2  // graph distances (lift) keep their scale
        for i in 0..<count {
            let old = UInt32(i)
            guard newID[i] != nil else { continue }
            let id = try out.append(vector: UnsafeBufferPointer(start: vector(old), count: dimension), invNorm: invNorm(old),
                                    key: keyBytes(old), metadata: metadataBytes(old))
            let top = level(old)
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
}
