import EmbedJSON

/// The outcome of running the conformance kit on one plugin.
public struct ConformanceReport: Sendable {
    /// One check: its name, whether it passed (nil = skipped, with the reason in `detail`).
    public struct Check: Sendable {
        public var name: String
        public var passed: Bool?
        public var detail: String
    }

    public var pluginPath: String
    public var pluginName = "?"
    public var pluginVersion = "?"
    public var modelName = "?"
    public var checks: [Check] = []

    /// True when no check failed (skipped checks do not fail a plugin).
    public var passed: Bool { !checks.isEmpty && checks.allSatisfy { $0.passed != false } }

    mutating func pass(_ name: String, _ detail: String) { checks.append(Check(name: name, passed: true, detail: detail)) }
    mutating func fail(_ name: String, _ detail: String) { checks.append(Check(name: name, passed: false, detail: detail)) }
    mutating func skip(_ name: String, _ detail: String) { checks.append(Check(name: name, passed: nil, detail: detail)) }

    /// A human-readable report, one line per check.
    public func renderText() -> String {
        var out = "embedd plugin conformance: \(pluginPath)\n"
        out += "plugin \(pluginName) \(pluginVersion), model \(modelName)\n"
        let width = (checks.map(\.name.count).max() ?? 10) + 2
        for c in checks {
            let tag = c.passed == true ? "PASS" : c.passed == false ? "FAIL" : "SKIP"
            out += "  \(tag)  \(c.name)\(String(repeating: " ", count: max(1, width - c.name.count)))\(c.detail)\n"
        }
        let failed = checks.filter { $0.passed == false }.count
        out += passed ? "result: PASS (\(checks.count) checks)\n" : "result: FAIL (\(failed) of \(checks.count) checks failed)\n"
        return out
    }

    /// The same report as one JSON object (for scripts).
    public func renderJSON() -> String {
        let items = checks.map { c in
            "{\"name\":\(jsonString(c.name)),\"status\":\"\(c.passed == true ? "pass" : c.passed == false ? "fail" : "skip")\",\"detail\":\(jsonString(c.detail))}"
        }
        return "{\"plugin\":\(jsonString(pluginPath)),\"name\":\(jsonString(pluginName)),\"version\":\(jsonString(pluginVersion)),"
            + "\"model\":\(jsonString(modelName)),\"passed\":\(passed),\"checks\":[\(items.joined(separator: ","))]}"
    }
}

/// JSON string literal with the escapes RFC 8259 requires (EmbedJSON's escaper).
func jsonString(_ s: String) -> String { JSONWriter.quoted(s) }
