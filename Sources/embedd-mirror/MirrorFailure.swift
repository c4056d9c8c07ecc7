/// Why `embedd-mirror` stops (everything else is retried).
enum MirrorFailure: Error, CustomStringConvertible {
    case help
    case usage(String)
    /// The mirror cannot go on without an operator: stale cursor, no such mirror, bad URL.
    case fatal(String)

    var description: String {
        switch self {
        case .help: return MirrorOptions.usage
        case .usage(let m): return "embedd-mirror: \(m)\n\n" + MirrorOptions.usage
        case .fatal(let m): return "embedd-mirror: \(m)"
        }
    }
}
