/// How `MilvusClient` retries transient failures (unreachable server, overload, rate limits):
/// exponential backoff from `initialDelay`, doubling up to `maxDelay`, at most `maxAttempts`
/// tries in all (0 = forever, for a process that must outlast any outage).
public struct MilvusRetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var initialDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 8, initialDelay: Double = 0.2, maxDelay: Double = 5) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// The wait before try `attempt + 1` (attempt counts from 1).
    public func delay(after attempt: Int) -> Double {
        var d = initialDelay
        for _ in 1..<max(attempt, 1) { d = min(d * 2, maxDelay) }
        return min(d, maxDelay)
    }

    /// No retries: the first failure is thrown (for tests and interactive probes).
    public static let none = MilvusRetryPolicy(maxAttempts: 1)
}
