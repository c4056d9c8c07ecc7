import EmbedWire

/// The series of one method: calls by status code (`embedd_calls_total{method,code}`) and
/// their durations (`embedd_call_duration_seconds{method}`). Created when the method is
/// registered; each call keeps a reference, so answering it takes no lookup and no lock.
final class MethodMetrics: Sendable {
    /// The `method` label: the rpc name ("Embed"), or "other" for ids no handler serves.
    let method: String
    /// By status code value; codes past UNAUTHENTICATED (none today) count as UNKNOWN.
    private let codes: [MetricCounter]
    /// From the event loop's reading of the REQUEST to the reply handed to the connection.
    let duration = MetricHistogram.callSeconds()

    static let codeCount = 17

    init(method: String) {
        self.method = method
        codes = (0..<Self.codeCount).map { _ in MetricCounter() }
    }

    /// Counts one answered (or refused, or abandoned) call; `nanoseconds` is its duration,
    /// nil for calls refused before they started (no duration to speak of).
    func record(_ code: StatusCode, nanoseconds: UInt64?) {
        let i = code.rawValue < UInt32(Self.codeCount) ? Int(code.rawValue) : Int(StatusCode.unknown.rawValue)
        codes[i].add()
        if let nanoseconds { duration.observe(nanoseconds) }
    }

    /// Calls that ended with `code` so far.
    func count(_ code: StatusCode) -> UInt64 {
        code.rawValue < UInt32(Self.codeCount) ? codes[Int(code.rawValue)].value : 0
    }
}
