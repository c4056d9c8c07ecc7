/// Marks nodes seen during one search. Epoch-tagged so clearing is O(1): a node is visited
/// when its mark equals the current epoch; the array is zeroed only when the epoch wraps.
final class VisitedSet {
    private var marks: UnsafeMutablePointer<UInt16>
    private(set) var capacity: Int
    private var epoch: UInt16 = 0

    init(capacity: Int) {
        self.capacity = Swift.max(capacity, 1024)
        marks = .allocate(capacity: self.capacity)
        marks.initialize(repeating: 0, count: self.capacity)
    }

    deinit { marks.deallocate() }

    /// Starts a new search over `nodeCount` nodes.
    func reset(nodeCount: Int) {
        if nodeCount > capacity {
            marks.deallocate()
            capacity = Swift.max(nodeCount, capacity * 2)
            marks = .allocate(capacity: capacity)
            marks.initialize(repeating: 0, count: capacity)
            epoch = 0
        }
        epoch &+= 1
        if epoch == 0 {
            marks.update(repeating: 0, count: capacity)
            epoch = 1
        }
    }

    /// Starts a new search over `nodeCount` nodes and lends its marks and epoch to `body` (the
    /// C walk marks nodes itself).
    func withNewEpoch<R>(nodeCount: Int, _ body: (UnsafeMutablePointer<UInt16>, UInt16) -> R) -> R {
        reset(nodeCount: nodeCount)
        return body(marks, epoch)
    }

    /// Marks `id`; returns true if it was not yet marked in this search.
    @inline(__always)
    func insert(_ id: UInt32) -> Bool {
        let i = Int(id)
        if marks[i] == epoch { return false }
        marks[i] = epoch
        return true
    }
}
