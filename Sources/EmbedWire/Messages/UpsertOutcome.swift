/// `enum UpsertOutcome` of proto/embedd.proto (open enum: unknown values are kept).
public struct UpsertOutcome: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// 0: not set.
    public static let unknown = UpsertOutcome(rawValue: 0)
    /// 1 (`UPSERT_STORED`): durable (fsync'd) before the response was sent.
    public static let stored = UpsertOutcome(rawValue: 1)
    /// 2 (`UPSERT_SKIPPED_EXISTING`): `skip_existing` was set and the key was already stored.
    public static let skippedExisting = UpsertOutcome(rawValue: 2)
    /// 3 (`UPSERT_FAILED`): nothing was stored for this key; `UpsertResult.error` says why.
    public static let failed = UpsertOutcome(rawValue: 3)

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
