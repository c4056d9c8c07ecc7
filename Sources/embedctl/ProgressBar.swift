import EmbedSys

/// A one-line progress bar on standard error, drawn only when standard error is a terminal
/// (so logs and pipes never see carriage returns), at most ten times a second.
final class ProgressBar {
    let total: Int
    let label: String
    private let enabled: Bool
    private var lastDraw = 0.0
    private let started = Clock.monotonicSeconds()
    private var drawn = false

    init(total: Int, label: String, enabled: Bool = Terminal.isTerminal(.standardError)) {
        self.total = total
        self.label = label
        self.enabled = enabled && total > 0
    }

    /// Redraws with `done` of `total` items finished and `failed` of them failed.
    func update(done: Int, failed: Int, force: Bool = false) {
        guard enabled else { return }
        let now = Clock.monotonicSeconds()
        guard force || now - lastDraw >= 0.1 else { return }
        lastDraw = now
        let width = max(10, min(40, (Terminal.columns(.standardError) ?? 80) - 60))
        let fraction = Double(min(done, total)) / Double(total)
        let filled = Int(fraction * Double(width))
        let rate = Double(done) / max(now - started, 1e-3)
        var line = "\r\(label) [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
        line += "\(done)/\(total) \(Int(fraction * 100))% \(Int(rate))/s"
        if failed > 0 { line += " \(failed) failed" }
        Output.err(line + "\u{1B}[K")
        drawn = true
    }

    /// Clears the bar so the final report starts on a clean line.
    func finish() {
        guard enabled, drawn else { return }
        Output.err("\r\u{1B}[K")
    }
}
