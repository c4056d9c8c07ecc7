extension JSONWriter {
    /// Appends `value` as a JSON number in the shortest form that reads back as the same
    /// `Float` (Swift's `description`: `0.1`, `1e-05`, `-0.0`), so a client that parses it as a
    /// double and rounds to float32 gets the exact value back. JSON has no NaN or infinity:
    /// those become `null`.
    ///
    /// `@inlinable` (both functions): a caller in another module gets them specialized and
    /// inlined; called through the module boundary they cost ~1 µs a float (embedd-http writes
    /// 384 of them per MiniLM vector).
    @inlinable
    public static func appendNumber(_ value: Float, to out: inout String) {
        guard value.isFinite else { out += "null"; return }
        out += value.description
    }

    /// Appends `values` as a JSON array of numbers (`appendNumber` each).
    @inlinable
    public static func appendArray(_ values: [Float], to out: inout String) {
        out += "["
        for i in values.indices {
            if i > 0 { out += "," }
            appendNumber(values[i], to: &out)
        }
        out += "]"
    }
}
