import EmbedSys

/// HNSW levels from the store's seeded generator (EmbedSys `SplitMix64`; its state is saved in
/// the snapshot).
extension SplitMix64 {
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
