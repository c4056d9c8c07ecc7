/// Per-thread working memory of one graph search, pooled by the collection so a query does
/// not allocate: the visited marks, the candidate/result heaps and the list of a node's
/// not-yet-visited neighbours.
final class SearchScratch {
    let visited: VisitedSet
    var candidates = NeighborHeap(max: false, capacity: 512)
    var results = NeighborHeap(max: true, capacity: 512)
    var fresh: [UInt32] = { var a = [UInt32](); a.reserveCapacity(256); return a }()
    /// Candidate and result buffers of the C layer-0 walk (`NodeStore.walkLayer0`).
    var walkCandidateDistances = [Float](repeating: 0, count: 4096)
    var walkCandidateIDs = [UInt32](repeating: 0, count: 4096)
    var walkResultDistances: [Float] = []
    var walkResultIDs: [UInt32] = []

    init(nodeCount: Int, visitedListCapacity: Int = VisitedSet.defaultListCapacity) {
        visited = VisitedSet(capacity: nodeCount, listCapacity: visitedListCapacity)
    }
}
