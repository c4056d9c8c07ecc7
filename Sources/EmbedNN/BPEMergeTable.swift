/// The merges of a BPE vocabulary: (left id, right id) → (rank, merged id), in an open-addressing
/// table with integer keys. BPE probes it a few times per byte of every word, so it avoids the
/// hashing cost of a `Dictionary` with tuple keys.
struct BPEMergeTable: Sendable {
    /// A merge: lower rank merges first; `merged` is the id of the concatenated token.
    struct Merge: Sendable, Equatable {
        let rank: UInt32
        let merged: Int32
    }

    private static let empty = UInt64.max
    private var keys: [UInt64]
    private var values: [Merge]
    private let shift: UInt64

    /// Number of distinct pairs.
    private(set) var count = 0

    /// A table sized for `capacity` pairs (at most half full).
    init(capacity: Int) {
        var bits = 4
        while (1 << bits) < capacity * 2 { bits += 1 }
        keys = Array(repeating: Self.empty, count: 1 << bits)
        values = Array(repeating: Merge(rank: 0, merged: 0), count: 1 << bits)
        shift = UInt64(64 - bits)
    }

    @inline(__always) private static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    @inline(__always) private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// Sets the merge of a pair; a later entry for the same pair replaces the earlier one (as
    /// `tokenizers` builds its map). Ids must be non-negative.
    mutating func insert(_ a: Int32, _ b: Int32, _ merge: Merge) {
        let k = Self.key(a, b)
        let mask = keys.count - 1
        var i = slot(k)
        while keys[i] != Self.empty && keys[i] != k { i = (i + 1) & mask }
        if keys[i] == Self.empty { count += 1 }
        keys[i] = k
        values[i] = merge
    }

    /// The merge of the pair, if there is one.
    @inline(__always) func lookup(_ a: Int32, _ b: Int32) -> Merge? {
        let k = Self.key(a, b)
        return keys.withUnsafeBufferPointer { keys in
            let mask = keys.count - 1
            var i = slot(k)
            while true {
                let stored = keys[i]
                if stored == k { return values[i] }
                if stored == Self.empty { return nil }
                i = (i + 1) & mask
            }
        }
    }
}
