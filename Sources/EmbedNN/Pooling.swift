import EmbedJSON

/// How token vectors become one sentence vector (sentence-transformers' `Pooling` module).
/// Several modes may be on at once; their results are concatenated in sentence-transformers'
/// order: cls, max, mean, mean_sqrt_len.
public struct Pooling: Sendable, Equatable {
    public var cls = false
    public var max = false
    public var mean = true
    public var meanSqrtLength = false

    /// Mean pooling, the default for models without a pooling config.
    public init() {}

    /// Reads `1_Pooling/config.json` (or whatever folder modules.json names).
    public init(json: JSONValue, path: String) throws(NNError) {
        cls = json["pooling_mode_cls_token"]?.bool ?? false
        max = json["pooling_mode_max_tokens"]?.bool ?? false
        mean = json["pooling_mode_mean_tokens"]?.bool ?? false
        meanSqrtLength = json["pooling_mode_mean_sqrt_len_tokens"]?.bool ?? false
        for unsupported in ["pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"] where json[unsupported]?.bool == true {
            throw NNError.file(path, "\(unsupported) is not supported (cls, max, mean, mean_sqrt_len only)")
        }
        if let mode = json["pooling_mode"]?.string {
            switch mode {
            case "cls": cls = true
            case "max": max = true
            case "mean": mean = true
            case "mean_sqrt_len_tokens": meanSqrtLength = true
            default: throw NNError.file(path, "pooling_mode \"\(mode)\" is not supported")
            }
        }
        guard modeCount > 0 else { throw NNError.file(path, "no pooling mode is enabled") }
    }

    /// Number of pooled vectors concatenated.
    public var modeCount: Int { [cls, max, mean, meanSqrtLength].filter { $0 }.count }

    /// Pools `length` rows of `width` at `rows` into `out` (`modeCount × width` floats).
    public func pool(_ rows: UnsafePointer<Float>, length: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        var o = out
        if cls { o.update(from: rows, count: width); o += width }
        if max {
            o.update(from: rows, count: width)
            for t in 1..<Swift.max(length, 1) { for c in 0..<width { o[c] = Swift.max(o[c], rows[t * width + c]) } }
            o += width
        }
        if mean || meanSqrtLength {
            var sum = [Float](repeating: 0, count: width)
            for t in 0..<length { for c in 0..<width { sum[c] += rows[t * width + c] } }
            if mean {
                let inv = 1 / Float(Swift.max(length, 1))
                for c in 0..<width { o[c] = sum[c] * inv }
                o += width
            }
            if meanSqrtLength {
                let inv = 1 / Float(Swift.max(length, 1)).squareRoot()
                for c in 0..<width { o[c] = sum[c] * inv }
                o += width
            }
        }
    }
}
