/// How vectors are compared. Scores come back in each metric's natural form:
///
/// | metric | `SearchHit.score` | best |
/// |---|---|---|
/// | `.cosine` | cosine similarity, in [-1, 1] | highest |
/// | `.l2` | Euclidean distance (not squared) | lowest |
/// | `.innerProduct` | dot product | highest |
public enum Metric: String, Sendable, CaseIterable, CustomStringConvertible {
    case cosine
    case l2
    case innerProduct = "ip"

    /// The on-disk code (docs/storage.md).
    var code: UInt32 {
        switch self { case .cosine: 1; case .l2: 2; case .innerProduct: 3 }
    }

    init?(code: UInt32) {
        switch code { case 1: self = .cosine; case 2: self = .l2; case 3: self = .innerProduct; default: return nil }
    }

    /// Parses "cosine", "l2"/"euclidean", "ip"/"dot"/"inner_product".
    public init?(name: String) {
        switch name.lowercased() {
        case "cosine", "cos": self = .cosine
        case "l2", "euclidean": self = .l2
        case "ip", "dot", "inner_product", "innerproduct": self = .innerProduct
        default: return nil
        }
    }

    public var description: String { rawValue }

    /// 1/‖v‖, the factor that normalises `v` for cosine, from the same float32 sum of squares
    /// the distance kernels compute; nil when that sum is zero, subnormal or infinite (components
    /// beyond about 1e19 or all below about 1e-19): graph distances between such vectors would
    /// overflow or vanish, so the store refuses them rather than link them badly.
    public static func inverseNorm(_ v: [Float]) -> Float? {
        let sq = v.withUnsafeBufferPointer { b in b.isEmpty ? 0 : Distance.dot(b.baseAddress!, b.baseAddress!, b.count) }
        guard sq.isNormal, sq.isFinite else { return nil }
        return 1 / sq.squareRoot()
    }

    /// Why `v` cannot be used under cosine (for error messages), given `inverseNorm(v) == nil`.
    public static func directionProblem(_ v: [Float]) -> String {
        v.allSatisfy({ $0 == 0 }) ? "a zero vector, which has no direction under cosine"
            : "outside float32's range for cosine: its squared norm overflows or underflows (scale it to a norm between 1e-18 and 1e18)"
    }

    /// Converts the internal distance (lower is better for every metric) to the public score.
    @inline(__always)
    func score(fromDistance d: Float) -> Float {
        switch self {
        case .cosine: return 1 - d
        case .l2: return d > 0 ? d.squareRoot() : 0
        case .innerProduct: return -d
        }
    }
}

/// How vector components are stored (see `CollectionConfig.storage`).
public enum StorageType: String, Sendable, CaseIterable {
    case f32, f16, int8

    var code: UInt32 {
        switch self { case .f32: 1; case .f16: 2; case .int8: 3 }
    }

    /// Bytes of the stored vector per component (int8 stores only the 8-bit search codes,
    /// which every collection has).
    var bytesPerComponent: Int {
        switch self { case .f32: 4; case .f16: 2; case .int8: 0 }
    }

    init?(code: UInt32) {
        switch code { case 1: self = .f32; case 2: self = .f16; case 3: self = .int8; default: return nil }
    }
}
