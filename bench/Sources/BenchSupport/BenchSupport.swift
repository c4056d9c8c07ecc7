import EmbedSys

/// What the Swift sides of the benchmarks share: `--key value` options, stdout/stderr lines,
/// the monotonic clock, and timing a body for a while after a warm-up.
public struct BenchTool: Sendable {
    /// The executable's name, for messages.
    public let name: String

    public init(name: String) { self.name = name }

    /// The command line's `--key value` pairs (anything else stops the run).
    public func options() -> [String: String] {
        var opts: [String: String] = [:]
        let args = Array(CommandLine.arguments.dropFirst())
        var i = 0
        while i < args.count {
            guard args[i].hasPrefix("--"), i + 1 < args.count else { fail("bad argument \(args[i])") }
            opts[String(args[i].dropFirst(2))] = args[i + 1]
            i += 2
        }
        return opts
    }

    public func fail(_ message: String) -> Never {
        try? FileDescriptor.standardError.writeAll(Array("\(name): \(message)\n".utf8))
        Environment.exit(2)
    }

    /// One line on standard output (or standard error).
    public func print(_ s: String, error: Bool = false) {
        try? (error ? FileDescriptor.standardError : FileDescriptor.standardOutput).writeAll(Array((s + "\n").utf8))
    }

    /// Seconds on the monotonic clock.
    public static func now() -> Double { Double(Clock.monotonicNanoseconds()) * 1e-9 }

    /// Latencies of `body` run for `seconds` (at least five times) after two warm-up runs.
    public struct Timing: Sendable {
        /// Seconds per run, sorted.
        public let latencies: [Double]
        /// Wall time of all timed runs.
        public let total: Double
        /// Runs per second.
        public var runsPerSecond: Double { Double(latencies.count) / total }
        /// The latency at quantile `q`, in milliseconds.
        public func milliseconds(_ q: Double) -> Double { latencies[min(latencies.count - 1, Int(q * Double(latencies.count)))] * 1000 }
    }

    public static func time(seconds: Double, _ body: () throws -> Void) rethrows -> Timing {
        for _ in 0..<2 { try body() }
        var latencies: [Double] = []
        let start = now()
        while now() - start < seconds || latencies.count < 5 {
            let s = now()
            try body()
            latencies.append(now() - s)
        }
        let total = now() - start
        return Timing(latencies: latencies.sorted(), total: total)
    }
}
