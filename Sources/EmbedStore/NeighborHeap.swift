/// A binary heap of (distance, node) pairs; `max == true` keeps the largest distance on top
/// (the "worst result" heap), otherwise the smallest (the "next candidate" heap).
/// Plain arrays: searches reuse one pair of heaps per thread, so no allocation per query.
struct NeighborHeap {
    var distances: [Float] = []
    var ids: [UInt32] = []
    let max: Bool

    init(max: Bool, capacity: Int = 0) {
        self.max = max
        distances.reserveCapacity(capacity)
        ids.reserveCapacity(capacity)
    }

    var count: Int { ids.count }
    var isEmpty: Bool { ids.isEmpty }
    var topDistance: Float { distances[0] }
    var topID: UInt32 { ids[0] }

    mutating func removeAll() {
        distances.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private func above(_ a: Float, _ b: Float) -> Bool { max ? a > b : a < b }

    mutating func push(_ d: Float, _ id: UInt32) {
        distances.append(d)
        ids.append(id)
        var i = ids.count - 1
        while i > 0 {
            let parent = (i - 1) >> 1
            guard above(distances[i], distances[parent]) else { break }
            distances.swapAt(i, parent)
            ids.swapAt(i, parent)
            i = parent
        }
    }

    @discardableResult
    mutating func pop() -> (Float, UInt32) {
        let top = (distances[0], ids[0])
        let lastD = distances.removeLast()
        let lastI = ids.removeLast()
        let n = ids.count
        if n > 0 {
            var i = 0
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                var c = l
                if l + 1 < n && above(distances[l + 1], distances[l]) { c = l + 1 }
                guard above(distances[c], lastD) else { break }
                distances[i] = distances[c]
                ids[i] = ids[c]
                i = c
            }
            distances[i] = lastD
            ids[i] = lastI
        }
        return top
    }

    /// The contents sorted by ascending distance (consumes nothing).
    func sortedAscending() -> [(Float, UInt32)] {
        zip(distances, ids).sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
    }
}
