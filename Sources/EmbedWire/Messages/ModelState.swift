/// `enum ModelState` of proto/embedd.proto (open enum: unknown values are kept).
public struct ModelState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// 0: not set.
    public static let unknown = ModelState(rawValue: 0)
    /// 1: loaded and serving.
    public static let ready = ModelState(rawValue: 1)
    /// 2: configured but failed to load.
    public static let failed = ModelState(rawValue: 2)
    /// 3: load in progress.
    public static let loading = ModelState(rawValue: 3)

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
