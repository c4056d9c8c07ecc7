/// Byte-level BPE with an end-of-word suffix, as `tokenizers`' BPE model runs CLIP's vocabulary:
/// a word (the UTF-8 bytes of one pre-token) starts as one symbol per byte, the last one with
/// `</w>`, and the pair of lowest merge rank — the leftmost among equals — merges until no pair
/// has a merge. A byte without a symbol becomes the unknown token (not fused with its neighbours).
///
/// Short words merge in a compact array; words over 64 bytes use the reference's priority queue
/// over a linked list (O(n log n)), so a megabyte-long "word" costs no more than its length.
/// Both orders are the same: the queue always pops the lowest (rank, position) of the pairs
/// currently in the word.
struct ByteLevelBPE: Sendable {
    /// Each byte's symbol id inside a word (0..<256) and as a word's last byte, with the
    /// end-of-word suffix (256..<512); -1 where the vocabulary has none.
    let symbolIDs: [Int32]
    /// The unknown token's id (nil: bytes without a symbol are dropped, as `tokenizers` does
    /// without an unknown token).
    let unknownID: Int32?
    let merges: BPEMergeTable
    let cache: BPEWordCache

    /// Words up to this many bytes merge in the compact array.
    static let compactLimit = 64

    /// Appends the token ids of one word (its UTF-8 bytes) to `ids`.
    func encode(_ word: [UInt8], into ids: inout [Int32]) {
        word.withUnsafeBufferPointer { encode($0, into: &ids) }
    }

    /// Appends the token ids of one word to `ids`.
    func encode(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int32]) {
        guard !word.isEmpty else { return }
        let hash = BPEWordCache.hash(word)
        if cache.lookup(word, hash: hash, into: &ids) { return }
        let start = ids.count
        if word.count <= Self.compactLimit {
            encodeCompact(word, into: &ids)
        } else {
            encodeQueued(word, into: &ids)
        }
        cache.insert(word, hash: hash, ids: ids[start...])
    }

    /// The initial symbols of a word: one per byte, the unknown id for a byte without one.
    @inline(__always) private func forEachSymbol(_ word: UnsafeBufferPointer<UInt8>, _ body: (Int32) -> Void) {
        let last = word.count - 1
        for i in 0...last {
            let id = symbolIDs[Int(word[i]) + (i == last ? 256 : 0)]
            if id >= 0 { body(id) } else if let unknownID { body(unknownID) }
        }
    }

    /// Merges in place in arrays of at most `compactLimit` symbols.
    func encodeCompact(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int32]) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 * Self.compactLimit) { buffer in
            let symbols = buffer.baseAddress!
            let merged = symbols + Self.compactLimit  // merged id of pair i (symbols i, i + 1)
            let ranks = UnsafeMutableRawPointer(symbols + 2 * Self.compactLimit).bindMemory(to: UInt32.self, capacity: Self.compactLimit)
            var n = 0
            forEachSymbol(word) { symbols[n] = $0; n += 1 }
            @inline(__always) func pair(_ i: Int) {
                if let m = merges.lookup(symbols[i], symbols[i + 1]) {
                    ranks[i] = m.rank
                    merged[i] = m.merged
                } else {
                    ranks[i] = .max
                }
            }
            if n > 1 { for i in 0..<(n - 1) { pair(i) } }
            while n > 1 {
                var best = 0
                var bestRank = ranks[0]
                for i in 1..<(n - 1) where ranks[i] < bestRank { best = i; bestRank = ranks[i] }
                if bestRank == .max { break }
                symbols[best] = merged[best]
                // Symbol best + 1 and pair best leave; later symbols and pairs move down one.
                var i = best + 1
                while i < n - 1 { symbols[i] = symbols[i + 1]; i += 1 }
                i = best + 1
                while i < n - 2 { ranks[i] = ranks[i + 1]; merged[i] = merged[i + 1]; i += 1 }
                n -= 1
                if best > 0 { pair(best - 1) }
                if best < n - 1 { pair(best) }
            }
            ids.append(contentsOf: UnsafeBufferPointer(start: symbols, count: n))
        }
    }

    /// The reference's algorithm: a min-queue of (rank, position) over a linked list of symbols;
    /// entries whose pair no longer merges into the same token are skipped when popped.
    func encodeQueued(_ word: UnsafeBufferPointer<UInt8>, into ids: inout [Int32]) {
        var symbols: [Int32] = []
        symbols.reserveCapacity(word.count)
        forEachSymbol(word) { symbols.append($0) }
        let n = symbols.count
        guard n > 1 else { ids.append(contentsOf: symbols); return }
        var next = Array(1...n)  // n: none
        next[n - 1] = -1
        var prev = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var queue = MergeQueue()
        for i in 0..<(n - 1) {
            if let m = merges.lookup(symbols[i], symbols[i + 1]) { queue.push(rank: m.rank, position: i, merged: m.merged) }
        }
        while let top = queue.pop() {
            let p = top.position
            guard alive[p], next[p] >= 0 else { continue }
            let right = next[p]
            guard let m = merges.lookup(symbols[p], symbols[right]), m.merged == top.merged else { continue }
            symbols[p] = top.merged
            alive[right] = false
            next[p] = next[right]
            if next[right] >= 0 { prev[next[right]] = p }
            if prev[p] >= 0, let m = merges.lookup(symbols[prev[p]], symbols[p]) {
                queue.push(rank: m.rank, position: prev[p], merged: m.merged)
            }
            if next[p] >= 0, let m = merges.lookup(symbols[p], symbols[next[p]]) {
                queue.push(rank: m.rank, position: p, merged: m.merged)
            }
        }
        for i in 0..<n where alive[i] { ids.append(symbols[i]) }
    }
}

/// A binary min-heap of pending merges ordered by (rank, position).
private struct MergeQueue {
    struct Item {
        let key: UInt64  // rank << 32 | position
        let merged: Int32
        var rank: UInt32 { UInt32(truncatingIfNeeded: key >> 32) }
        var position: Int { Int(truncatingIfNeeded: key & 0xFFFF_FFFF) }
    }

    private var heap: [Item] = []

    mutating func push(rank: UInt32, position: Int, merged: Int32) {
        heap.append(Item(key: UInt64(rank) << 32 | UInt64(position), merged: merged))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].key < heap[parent].key else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Item? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < heap.count && heap[l].key < heap[smallest].key { smallest = l }
                if r < heap.count && heap[r].key < heap[smallest].key { smallest = r }
                if smallest == i { break }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
        return first
    }
}
