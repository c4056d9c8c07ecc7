/// One `key: value` load option of a plugin's model (`options:` in embedd.yaml), with the
/// parsers every EmbedNN-based plugin shares, so that they refuse bad values in the same words.
public struct ModelOption: Sendable {
    public let key: String
    public let value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// The value as an integer in `range`, or an error naming the key.
    public func int(_ range: ClosedRange<Int>) throws(NNError) -> Int {
        guard let v = Int(value), range.contains(v) else {
            throw NNError("option \(key): '\(value)' is not an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    /// `auto` (the CPU's choice, `Precision.automatic`), `fp32` or `bf16`; `isAuto` says which.
    public func precision() throws(NNError) -> (precision: Precision, isAuto: Bool) {
        if value == "auto" { return (.automatic, true) }
        guard let p = Precision(rawValue: value) else { throw NNError("option \(key): '\(value)' is not auto, fp32 or bf16") }
        return (p, false)
    }
}
