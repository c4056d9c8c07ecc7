/// Marks nodes seen during one search: one bit per node, so the marks a search probes stay in
/// the core's cache even for millions of nodes (1M nodes: 128 KiB, against 2 MiB for 16-bit
/// epoch marks — bench/NOTES.md, stop 12). The ids marked are also listed, so the next search
/// clears only their words; a search that marks more than `listCapacity` nodes clears the
/// whole array instead.
final class VisitedSet {
    private var bits: UnsafeMutablePointer<UInt64>
    /// Nodes the bits cover.
    private(set) var capacity: Int
    private let touched: UnsafeMutablePointer<UInt32>
    /// Ids marked since the last reset (may exceed `listCapacity`: then only the first are listed).
    private var touchedCount = 0
    /// Ids listed for clearing; past this many a reset clears every word.
    let listCapacity: Int

    /// 16 Ki ids (64 KiB): more than an ef-500 search at 1M nodes marks.
    static let defaultListCapacity = 1 << 14

    init(capacity: Int, listCapacity: Int = VisitedSet.defaultListCapacity) {
        self.capacity = Swift.max(capacity, 1024)
        self.listCapacity = Swift.max(listCapacity, 1)
        bits = VisitedSet.zeroedWords(for: self.capacity)
        touched = .allocate(capacity: self.listCapacity)
    }

    deinit {
        bits.deallocate()
        touched.deallocate()
    }

    private static func words(for nodes: Int) -> Int { (nodes + 63) / 64 }

    private static func zeroedWords(for nodes: Int) -> UnsafeMutablePointer<UInt64> {
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: words(for: nodes))
        p.initialize(repeating: 0, count: words(for: nodes))
        return p
    }

    /// Starts a new search over `nodeCount` nodes: nothing is marked.
    func reset(nodeCount: Int) {
        if nodeCount > capacity {
            bits.deallocate()
            capacity = Swift.max(nodeCount, capacity * 2)
            bits = VisitedSet.zeroedWords(for: capacity)
        } else if touchedCount > listCapacity {
            bits.update(repeating: 0, count: VisitedSet.words(for: capacity))
        } else {
            for i in 0..<touchedCount { bits[Int(touched[i] >> 6)] = 0 }
        }
        touchedCount = 0
    }

    /// Starts a new search over `nodeCount` nodes and lends the marks to `body` (the C walk
    /// marks nodes itself): the bit array, the list of marked ids, its capacity and the count
    /// of ids marked, which the walk advances.
    func withCleared<R>(nodeCount: Int,
                        _ body: (UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<UInt32>, Int, UnsafeMutablePointer<Int>) -> R) -> R {
        reset(nodeCount: nodeCount)
        return withUnsafeMutablePointer(to: &touchedCount) { count in
            body(bits, touched, listCapacity, count)
        }
    }

    /// Whether `id` is marked in this search.
    func contains(_ id: UInt32) -> Bool { bits[Int(id >> 6)] & (UInt64(1) << UInt64(id & 63)) != 0 }

    /// Marks `id`; returns true if it was not yet marked in this search.
    @inline(__always)
    func insert(_ id: UInt32) -> Bool {
        let word = Int(id >> 6), bit = UInt64(1) << UInt64(id & 63)
        if bits[word] & bit != 0 { return false }
        bits[word] |= bit
        if touchedCount < listCapacity { touched[touchedCount] = id }
        touchedCount += 1
        return true
    }
}
