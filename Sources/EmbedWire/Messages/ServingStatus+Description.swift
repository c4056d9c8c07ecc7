// How the generated `ServingStatus` prints: the .proto's value names, without the zero value's prefix.

extension ServingStatus: CustomStringConvertible {
    /// The .proto's value name without its prefix (`SERVING`, `NOT_SERVING`, ...), or
    /// `STATUS_N` for a value this build does not know.
    public var description: String {
        switch rawValue {
        case 0: return "UNKNOWN"
        case 1: return "SERVING"
        case 2: return "NOT_SERVING"
        case 3: return "DRAINING"
        default: return "STATUS_\(rawValue)"
        }
    }
}
