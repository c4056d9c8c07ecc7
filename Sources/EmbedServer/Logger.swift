import EmbedConfig
import EmbedPluginHost
import EmbedSys
import Synchronization

/// Writes log lines to stderr with journald priority prefixes (`<3>` error … `<7>` debug), so
/// under systemd each line lands in the journal with the right priority (sd-daemon(3)), and in
/// a terminal it stays readable.
public final class Logger: Sendable {
    private let threshold: Atomic<Int>
    private let lock = Mutex(())

    /// Creates a logger that drops messages less severe than `verbosity`.
    public init(verbosity: Verbosity) {
        threshold = Atomic(verbosity.rawValue)
    }

    /// Changes the threshold (on reload).
    public func setVerbosity(_ v: Verbosity) { threshold.store(v.rawValue, ordering: .relaxed) }

    /// Whether `level` would be written.
    public func isEnabled(_ level: LogLevel) -> Bool { level.rawValue <= threshold.load(ordering: .relaxed) }

    /// Logs `message`; each line of a multi-line message gets the prefix.
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard isEnabled(level) else { return }
        var text = ""
        for line in message().split(separator: "\n", omittingEmptySubsequences: false) {
            text += "<\(level.rawValue)>\(line)\n"
        }
        lock.withLock { _ in try? FileDescriptor.standardError.writeAll(Array(text.utf8)) }
    }

    public func error(_ m: @autoclosure () -> String) { log(.error, m()) }
    public func warning(_ m: @autoclosure () -> String) { log(.warning, m()) }
    public func notice(_ m: @autoclosure () -> String) { log(.notice, m()) }
    public func info(_ m: @autoclosure () -> String) { log(.info, m()) }
    public func debug(_ m: @autoclosure () -> String) { log(.debug, m()) }

    /// The host's log sink, forwarding to this logger.
    public var sink: LogSink { { [self] level, message in self.log(level, message) } }
}
