// How the generated `UpsertOutcome` prints.

extension UpsertOutcome: CustomStringConvertible {
    /// `unknown`, `stored`, `skipped-existing`, `failed`, or `outcome-N` for a value this build
    /// does not know.
    public var description: String {
        switch rawValue {
        case 0: return "unknown"
        case 1: return "stored"
        case 2: return "skipped-existing"
        case 3: return "failed"
        default: return "outcome-\(rawValue)"
        }
    }
}
