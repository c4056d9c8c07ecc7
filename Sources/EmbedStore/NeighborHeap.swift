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

    /// Sift-up and sift-down move a hole instead of swapping, over the arrays' buffers (no
    /// per-element bounds or uniqueness checks in the search loop's hottest code).
    mutating func push(_ d: Float, _ id: UInt32) {
        distances.append(d)
        ids.append(id)
        let isMax = max
        distances.withUnsafeMutableBufferPointer { dp in
            ids.withUnsafeMutableBufferPointer { ip in
                var i = dp.count - 1
                while i > 0 {
                    let parent = (i - 1) >> 1
                    let p = dp[parent]
                    guard isMax ? d > p : d < p else { break }
                    dp[i] = p
                    ip[i] = ip[parent]
                    i = parent
                }
                dp[i] = d
                ip[i] = id
            }
        }
    }

    @discardableResult
    mutating func pop() -> (Float, UInt32) {
        let top = (distances[0], ids[0])
        let lastD = distances.removeLast()
        let lastI = ids.removeLast()
        let isMax = max
        distances.withUnsafeMutableBufferPointer { dp in
            ids.withUnsafeMutableBufferPointer { ip in
                let n = dp.count
                guard n > 0 else { return }
                var i = 0
                while true {
                    let l = 2 * i + 1
                    if l >= n { break }
                    var c = l
                    if l + 1 < n && (isMax ? dp[l + 1] > dp[l] : dp[l + 1] < dp[l]) { c = l + 1 }
                    let dc = dp[c]
                    guard isMax ? dc > lastD : dc < lastD else { break }
                    dp[i] = dc
                    ip[i] = ip[c]
                    i = c
                }
                dp[i] = lastD
                ip[i] = lastI
            }
        }
        return top
    }

    /// The contents sorted by ascending distance (consumes nothing).
    func sortedAscending() -> [(Float, UInt32)] {
        zip(distances, ids).sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
    }
}
