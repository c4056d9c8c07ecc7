import EmbedCLI
import EmbedJSON

/// Minimal JSON writing for embedctl, and `--json-input` on top of `JSONNode` (no Foundation,
/// which would cost start-up time and ICU for a tool people run in loops).
enum JSON {
    /// A quoted, escaped JSON string (EmbedJSON's escaper).
    static func string(_ s: String) -> String { JSONWriter.quoted(s) }

    /// A float in the shortest form that round-trips (Swift's description); JSON has no
    /// NaN/Infinity, so those become null.
    static func number(_ f: Float) -> String {
        guard f.isFinite else { return "null" }
        if f == f.rounded(), abs(f) < 1e7 { return String(Int(f)) }
        return "\(f)"
    }

    /// Objects are built as ordered key/value lists so output is stable.
    static func object(_ pairs: [(String, String)], indent: String = "") -> String {
        if pairs.isEmpty { return "{}" }
        let inner = indent + "  "
        return "{\n" + pairs.map { "\(inner)\(string($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n\(indent)}"
    }

    static func array(_ items: [String], indent: String = "") -> String {
        if items.isEmpty { return "[]" }
        let inner = indent + "  "
        return "[\n" + items.map { inner + $0 }.joined(separator: ",\n") + "\n\(indent)]"
    }

    /// Parses a JSON array of strings (the `--json-input` format).
    static func parseStringArray(_ bytes: [UInt8]) throws(CLIError) -> [String] {
        let node: JSONNode
        do { node = try JSONNode.parse(bytes) } catch { throw .runtime("invalid JSON input at \(error.describe(in: bytes, alwaysLine: true))") }
        guard case .array(let items) = node.kind else { throw .runtime("invalid JSON input: expected an array of strings, got \(node.typeName)") }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item.kind else {
                let (line, col) = JSONError("", at: item.range.lowerBound).location(in: bytes)
                throw .runtime("invalid JSON input at line \(line), column \(col): expected a string (element \(i)), got \(item.typeName)")
            }
            out.append(s)
        }
        return out
    }
}
