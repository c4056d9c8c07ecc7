// How the generated `ModelState` prints (embedctl's model listings show these words).

extension ModelState: CustomStringConvertible {
    /// `unknown`, `ready`, `failed`, `loading`, or `state-N` for a value this build does not know.
    public var description: String {
        switch rawValue {
        case 0: return "unknown"
        case 1: return "ready"
        case 2: return "failed"
        case 3: return "loading"
        default: return "state-\(rawValue)"
        }
    }
}
