import Synchronization

/// BPE results of words already seen, shared by every thread that encodes with one tokenizer.
///
/// Bounded the way `tokenizers` bounds its BPE cache: words of fewer than 256 bytes, at most
/// `capacity` of them, and once full it stops taking new ones (a query stream's common words are
/// in by then). Keyed by a 64-bit hash with the word kept for comparison, so a lookup allocates
/// nothing; a colliding word simply replaces the entry. A thread that finds the lock held skips
/// the cache instead of waiting for it.
final class BPEWordCache: Sendable {
    private struct Entry: Sendable {
        let word: [UInt8]
        let ids: [Int32]
    }

    /// Longest word (in bytes, exclusive) worth keeping: tokenizers' `MAX_LENGTH`.
    static let maxWordBytes = 256

    /// Most words kept.
    let capacity: Int
    private let table: Mutex<[UInt64: Entry]>

    init(capacity: Int = 10_000) {
        self.capacity = capacity
        table = Mutex([:])
    }

    /// FNV-1a, 64 bits.
    @inline(__always) static func hash(_ word: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in word { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    /// Appends the cached ids of `word` to `ids` and returns true, or returns false.
    func lookup(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64, into ids: inout [Int32]) -> Bool {
        let found: [Int32]? = table.withLockIfAvailable { table -> [Int32]? in
            guard let e = table[hash], e.word.count == word.count else { return nil }
            let same = e.word.withUnsafeBufferPointer { stored in
                stored.count == 0 || memcmpEqual(stored.baseAddress!, word.baseAddress!, stored.count)
            }
            return same ? e.ids : nil
        } ?? nil
        guard let found else { return false }
        ids.append(contentsOf: found)
        return true
    }

    /// Keeps the ids of `word` while there is room.
    func insert(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64, ids: ArraySlice<Int32>) {
        guard word.count < Self.maxWordBytes else { return }
        let entry = Entry(word: Array(word), ids: Array(ids))
        table.withLockIfAvailable { table in
            if table.count < capacity || table[hash] != nil { table[hash] = entry }
        }
    }

    /// Number of words kept (for tests).
    var count: Int { table.withLock { $0.count } }
}

@inline(__always) private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}
