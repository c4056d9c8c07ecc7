/// Per-thread working memory of one graph search, pooled by the collection so a query does
/// not allocate: the visited marks and the candidate/result heaps.
final class SearchScratch {
    let visited: VisitedSet
    var candidates = NeighborHeap(max: false, capacity: 512)
    var results = NeighborHeap(max: true, capacity: 512)

    init(nodeCount: Int) { visited = VisitedSet(capacity: nodeCount) }
}
