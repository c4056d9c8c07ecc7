/// A tiny seeded generator (SplitMix64) for HNSW levels: reproducible builds from a seed,
/// state saved in the snapshot.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A level drawn as ⌊−ln(U)·mL⌋ with mL = 1/ln m, computed without a logarithm:
    /// P(level ≥ l) = m^(−l).
    mutating func level(m: Int) -> Int {
        let u = Double(next() >> 11) * 0x1p-53
        var level = 0
        var p = 1.0 / Double(m)
        while u < p && level < 31 {
            level += 1
            p /= Double(m)
        }
        return level
    }
}
