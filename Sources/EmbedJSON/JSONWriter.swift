/// Writing JSON text: string escaping (the one escaper) and compact serialization.
public enum JSONWriter {
    /// `s` as a quoted JSON string literal with the escapes RFC 8259 requires: `"`, `\`, and
    /// control characters (`\n`, `\r`, `\t` by name, the rest as `\u00xx` in lower-case hex).
    /// Everything else, non-ASCII included, is written as is.
    public static func quoted(_ s: String) -> String {
        var out = ""
        appendQuoted(s, to: &out)
        return out
    }

    /// Appends `quoted(s)` to `out`.
    public static func appendQuoted(_ s: String, to out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }

    /// `value` as compact JSON text (no spaces; members in order; numbers as written).
    public static func compact(_ value: JSONValue) -> String {
        var out = ""
        append(value, to: &out)
        return out
    }

    private static func append(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n.text
        case .string(let s): appendQuoted(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                append(item, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (name, item)) in members.enumerated() {
                if i > 0 { out += "," }
                appendQuoted(name, to: &out)
                out += ":"
                append(item, to: &out)
            }
            out += "}"
        }
    }
}

extension JSONWriter {
    /// `f` as a JSON number that reads back as exactly `f` (nil for NaN and ±infinity, which
    /// JSON cannot write).
    ///
    /// The text is Swift's shortest round-trip form of the `Float` when a reader that parses
    /// it as a Double and then narrows it to a Float also gets `f` back (as Go and Python
    /// readers of 32-bit vectors do); in the rare case where that double rounding would land
    /// on a neighbour, it is the Double's shortest form instead, which every reader, narrowing
    /// or not, turns back into `f` exactly.
    public static func float32(_ f: Float) -> String? {
        guard f.isFinite else { return nil }
        let short = f.description
        if let d = Double(short), Float(d) == f { return short }
        return Double(f).description
    }

    /// Appends `float32(f)` to `out` ("null" for a non-finite value).
    public static func appendFloat32(_ f: Float, to out: inout String) {
        out += float32(f) ?? "null"
    }
}
