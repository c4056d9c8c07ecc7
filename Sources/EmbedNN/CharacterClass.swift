/// A set of Unicode scalars stored as sorted inclusive ranges, with a binary search lookup and
/// a bitmap fast path for ASCII.
struct CharacterClass: Sendable {
    private let bounds: [UInt32]
    private var ascii: (UInt64, UInt64) = (0, 0)

    /// `pairs` is the generated flat list `lo0, hi0, lo1, hi1, …`, sorted.
    init(_ pairs: [UInt32]) {
        bounds = pairs
        for i in stride(from: 0, to: pairs.count, by: 2) where pairs[i] < 128 {
            for c in pairs[i]...min(pairs[i + 1], 127) {
                if c < 64 { ascii.0 |= 1 << UInt64(c) } else { ascii.1 |= 1 << UInt64(c - 64) }
            }
        }
    }

    /// Whether `scalar` is in the set.
    func contains(_ scalar: Unicode.Scalar) -> Bool {
        let c = scalar.value
        if c < 64 { return ascii.0 & (1 << UInt64(c)) != 0 }
        if c < 128 { return ascii.1 & (1 << UInt64(c - 64)) != 0 }
        // Largest range start ≤ c, then compare with its end.
        var lo = 0, hi = bounds.count / 2
        while lo < hi {
            let mid = (lo + hi) / 2
            if bounds[2 * mid] <= c { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 && c <= bounds[2 * (lo - 1) + 1]
    }
}
