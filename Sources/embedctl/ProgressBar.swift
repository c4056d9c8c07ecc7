import EmbedSys

/// A one-line progress bar on standard error, drawn only when standard error is a terminal
/// (so logs and pipes never see carriage returns), at most ten times a second. `done` counts
/// what the daemon answered (never what was only queued or not sent); the rate and the ETA
/// come from it.
final class ProgressBar {
    /// Items to answer (may be set before the first update).
    var total: Int
    let label: String
    private let enabled: Bool
    private var lastDraw = 0.0
    private let started = Clock.monotonicSeconds()
    private var drawn = false

    init(total: Int, label: String, enabled: Bool = Terminal.isTerminal(.standardError)) {
        self.total = total
        self.label = label
        self.enabled = enabled
    }

    /// Redraws with `done` of `total` items answered and `failed` of them failed.
    func update(done: Int, failed: Int, force: Bool = false) {
        guard enabled && total > 0 else { return }
        let now = Clock.monotonicSeconds()
        guard force || now - lastDraw >= 0.1 else { return }
        lastDraw = now
        let width = max(10, min(40, (Terminal.columns(.standardError) ?? 80) - 60))
        let fraction = Double(min(done, total)) / Double(total)
        let filled = Int(fraction * Double(width))
        let rate = Double(done) / max(now - started, 1e-3)
        var line = "\r\(label) [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
        line += "\(done)/\(total) \(Int(fraction * 100))% \(Int(rate))/s"
        if done > 0 && done < total { line += " eta " + Self.duration(Double(total - done) / rate) }
        if failed > 0 { line += " \(failed) failed" }
        Output.err(line + "\u{1B}[K")
        drawn = true
    }

    /// `42s`, `3m05s`, `2h07m`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded(.up))
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(two(s % 60))s" }
        return "\(s / 3600)h\(two(s % 3600 / 60))m"
    }

    /// Clears the bar so the final report starts on a clean line.
    func finish() {
        guard enabled, drawn else { return }
        Output.err("\r\u{1B}[K")
    }
}
