/// `enum ServingStatus` of proto/embedd.proto. A struct over the raw value so that values
/// added by a newer server survive decoding (proto3 open enums).
public struct ServingStatus: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// 0: not set.
    public static let unknown = ServingStatus(rawValue: 0)
    /// 1: accepting calls.
    public static let serving = ServingStatus(rawValue: 1)
    /// 2: up, but no model is ready.
    public static let notServing = ServingStatus(rawValue: 2)
    /// 3: shutting down.
    public static let draining = ServingStatus(rawValue: 3)

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
