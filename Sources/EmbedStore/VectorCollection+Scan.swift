import EmbedSys

/// One page of `VectorCollection.scan`.
public struct ScanPage: Sendable, Equatable {
    /// Live records in ascending byte order of their keys; `vector` is empty unless asked for.
    public var records: [Record]
    /// The last key of this page when more records may follow (pass it as the next page's
    /// `after`); nil when the scan is complete.
    public var next: String?

    public init(records: [Record], next: String?) {
        self.records = records
        self.next = next
    }
}

extension VectorCollection {
    /// The most records one page may ask for.
    public static let maxScanLimit = 100_000

    /// A page of live records in ascending byte order of their keys (UTF-8 bytes, as `memcmp`
    /// compares them), starting after `after`: listing keys, exporting a collection, copying it
    /// elsewhere. Pages are consistent per page, not across pages: a record written between two
    /// pages is seen if its key sorts after the cursor, and a key deleted meanwhile is not.
    ///
    /// - Parameters:
    ///   - after: start after this key (nil or empty: from the first key). It need not exist.
    ///   - limit: at most this many records (1…`maxScanLimit`).
    ///   - filter: only records whose metadata matches.
    ///   - vectors: also return each record's vector (as stored: f16 and int8 are decoded).
    ///   - bytesLimit: stop early, returning fewer records and a `next` cursor, once keys,
    ///     metadata, documents and vectors would exceed this many bytes (a server's reply bound).
    ///     A page always holds at least one record when one is left.
    /// - Complexity: O(n · log limit) key comparisons over the n stored records, under the
    ///   shared lock (writers wait, searches do not), plus O(limit · d) for vectors.
    public func scan(after: String? = nil, limit: Int, filter: MetadataFilter? = nil, vectors: Bool = false,
                     bytesLimit: Int = .max) throws(StoreError) -> ScanPage {
        guard (1...VectorCollection.maxScanLimit).contains(limit) else {
            throw .invalidArgument("scan limit must be 1…\(VectorCollection.maxScanLimit), got \(limit)")
        }
        if let filter { try filter.validate() }
        let cursor = Array((after ?? "").utf8)
        return try state.lock.withReadLock { () throws(StoreError) -> ScanPage in
            if let failure = state.failure { throw failure }
            let s = state.store
            // The limit + 1 smallest keys after the cursor: one more than a page tells whether
            // another page follows.
            var smallest = KeyHeap(store: s, capacity: limit + 1)
            cursor.withUnsafeBytes { after in
                for i in 0..<s.count {
                    let id = UInt32(i)
                    if s.isDeleted(id) { continue }
                    let key = s.keyBytes(id)
                    if !after.isEmpty && KeyHeap.compare(key, after) <= 0 { continue }
                    if !smallest.wouldKeep(key) { continue }
                    if let filter, !filter.matches(s.metadataBytes(id)) { continue }
                    smallest.insert(id)
                }
            }
            let ids = smallest.sortedAscending()
            var records: [Record] = []
            records.reserveCapacity(min(ids.count, limit))
            var bytes = 0
            for id in ids.prefix(limit) {
                let r = Record(key: s.key(id), vector: vectors ? s.decodedVector(id) : [], metadata: s.metadata(id),
                               document: s.document(id))
                bytes += r.key.utf8.count + (r.metadata?.utf8.count ?? 0) + (r.document?.utf8.count ?? 0) + r.vector.count * 4 + 32
                if bytes > bytesLimit && !records.isEmpty { return ScanPage(records: records, next: records.last!.key) }
                records.append(r)
            }
            return ScanPage(records: records, next: ids.count > limit ? records.last!.key : nil)
        }
    }
}

/// The `capacity` smallest keys seen, as a max-heap of node ids ordered by their key bytes
/// (which stay in place while the shared lock is held).
private struct KeyHeap {
    let store: NodeStore
    let capacity: Int
    private var ids: [UInt32] = []

    init(store: NodeStore, capacity: Int) {
        self.store = store
        self.capacity = capacity
        ids.reserveCapacity(min(capacity, 1 << 16))
    }

    /// memcmp order, a proper prefix first.
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int { RawMemory.compare(a, b) }

    private func less(_ x: UInt32, _ y: UInt32) -> Bool { KeyHeap.compare(store.keyBytes(x), store.keyBytes(y)) < 0 }

    /// Whether a record with `key` belongs among the smallest so far (checked before the
    /// filter, which costs more than a comparison).
    func wouldKeep(_ key: UnsafeRawBufferPointer) -> Bool {
        ids.count < capacity || KeyHeap.compare(key, store.keyBytes(ids[0])) < 0
    }

    mutating func insert(_ id: UInt32) {
        if ids.count < capacity {
            ids.append(id)
            var i = ids.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard less(ids[parent], ids[i]) else { break }
                ids.swapAt(parent, i)
                i = parent
            }
        } else {
            ids[0] = id
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var largest = i
                if l < ids.count && less(ids[largest], ids[l]) { largest = l }
                if r < ids.count && less(ids[largest], ids[r]) { largest = r }
                if largest == i { break }
                ids.swapAt(i, largest)
                i = largest
            }
        }
    }

    func sortedAscending() -> [UInt32] { ids.sorted { less($0, $1) } }
}
