extension JSONWriter {
    /// Appends `value` as a JSON number in the shortest form that reads back as the same
    /// `Float` (Swift's `description`: `0.1`, `1e-05`, `-0.0`), so a client that parses it as a
    /// double and rounds to float32 gets the exact value back. JSON has no NaN or infinity:
    /// those become `null`.
    public static func appendNumber(_ value: Float, to out: inout String) {
        guard value.isFinite else { out += "null"; return }
        out += value.description
    }

    /// Appends `values` as a JSON array of numbers (`appendNumber` each).
    public static func appendArray(_ values: some Sequence<Float>, to out: inout String) {
        out += "["
        var first = true
        for v in values {
            if !first { out += "," }
            first = false
            appendNumber(v, to: &out)
        }
        out += "]"
    }
}
