/// Writes the Prometheus text exposition format, version 0.0.4: per family a `# HELP` and a
/// `# TYPE` line, then its samples, each family once and its samples together (what the
/// format requires and `prometheus_client`'s parser checks).
///
/// Names are the daemon's own constants; label values come from outside (model and collection
/// names, method names) and are escaped: `\` → `\\`, `"` → `\"`, line feed → `\n`.
struct MetricsWriter {
    enum Kind: String {
        case counter, gauge, histogram
    }

    /// The exposition so far.
    private(set) var text = ""
    private var written: Set<String> = []
    private var current = ""

    init() {}

    /// Starts family `name`; the samples that follow belong to it. Each family once (a second
    /// start is a programming error: the format forbids splitting a family).
    mutating func family(_ name: String, _ kind: Kind, help: String) {
        precondition(Self.isValidName(name), "bad metric name \(name)")
        precondition(written.insert(name).inserted, "metric family \(name) written twice")
        current = name
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    /// One sample of the current family (counters' samples are the family's name ending in
    /// `_total`; pass it whole).
    mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        line(name, labels, Self.format(value))
    }

    mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: UInt64) {
        line(name, labels, String(value))
    }

    mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Int) {
        line(name, labels, String(value))
    }

    /// The `_bucket` (one per bound, then `le="+Inf"`), `_sum` and `_count` samples of one
    /// histogram series of the current family.
    mutating func histogram(_ labels: [(String, String)] = [], _ h: MetricHistogram) {
        let s = h.snapshot()
        for (i, bound) in h.bounds.enumerated() {
            line(current + "_bucket", labels + [("le", Self.format(Double(bound) / h.divisor))], String(s.cumulative[i]))
        }
        line(current + "_bucket", labels + [("le", "+Inf")], String(s.count))
        line(current + "_sum", labels, Self.format(Double(s.sum) / h.divisor))
        line(current + "_count", labels, String(s.count))
    }

    private mutating func line(_ name: String, _ labels: [(String, String)], _ value: String) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (i, (k, v)) in labels.enumerated() {
                if i > 0 { text += "," }
                text += k
                text += "=\""
                text += Self.escapeLabel(v)
                text += "\""
            }
            text += "}"
        }
        text += " "
        text += value
        text += "\n"
    }

    // MARK: Format rules

    /// A label value: backslash, double quote and line feed escaped.
    static func escapeLabel(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else { return s }
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A HELP text: backslash and line feed escaped (quotes stay).
    static func escapeHelp(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A sample value: integers without a fraction, `+Inf`, `-Inf`, `NaN`, else the shortest
    /// decimal that reads back as the same double (Go's ParseFloat, which Prometheus uses, and
    /// Python's float() both take Swift's `1e-05` form).
    static func format(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        if d == d.rounded() && abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`, the metric-name rule.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first else { return false }
        func letter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_") || c == UInt8(ascii: ":") }
        return letter(first) && name.utf8.allSatisfy { letter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }
}
