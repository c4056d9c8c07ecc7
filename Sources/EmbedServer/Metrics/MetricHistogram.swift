import Synchronization

/// A Prometheus histogram with fixed buckets, lock-free: an observation is one bucket scan
/// (≤ 20 comparisons) and two relaxed atomic adds, so the hot paths (every call's answer,
/// every plugin call, every WAL fsync) can afford it.
///
/// Observations are whole numbers in a unit of the caller's (nanoseconds for durations,
/// inputs for batch sizes) so that the sum needs no floating-point CAS loop; `divisor`
/// converts to the exposed unit (1e9: nanoseconds → seconds; a division, so that bounds print
/// as written: 50 000 / 1e9 is the double nearest 5e-05, 50 000 × 1e-9 is not). Buckets are stored per bucket, not
/// cumulatively, and the count is their total: a scrape that races an observation may miss
/// it in both, never count it in `_count` but not in `+Inf` (the parser checks that).
final class MetricHistogram: Sendable {
    /// Upper bounds of the finite buckets (inclusive, as Prometheus' `le`), ascending, in the
    /// observed unit.
    let bounds: [UInt64]
    /// Observed units per exposed unit.
    let divisor: Double
    /// One per finite bucket, then the `+Inf` one. Separate objects: concurrent observers of
    /// different buckets do not contend on one word.
    private let cells: [Cell]
    private let sum = Cell()

    private final class Cell: Sendable {
        let value = Atomic<UInt64>(0)
    }

    /// What a scrape reads: cumulative bucket counts (`bounds.count` finite ones, then
    /// `+Inf`, which equals `count`) and the sum in the observed unit.
    struct Snapshot: Equatable {
        var cumulative: [UInt64]
        var sum: UInt64
        var count: UInt64 { cumulative.last ?? 0 }
    }

    /// - Parameters:
    ///   - bounds: finite upper bounds, strictly ascending (checked: a programming error).
    ///   - divisor: observed units per exposed unit.
    init(bounds: [UInt64], divisor: Double = 1) {
        precondition(!bounds.isEmpty && zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 },
                     "histogram bounds must be strictly ascending")
        self.bounds = bounds
        self.divisor = divisor
        cells = (0...bounds.count).map { _ in Cell() }
    }

    /// Records one observation.
    func observe(_ v: UInt64) {
        var i = 0
        while i < bounds.count && v > bounds[i] { i += 1 }
        cells[i].value.add(1, ordering: .relaxed)
        sum.value.add(v, ordering: .relaxed)
    }

    /// The buckets and sum now.
    func snapshot() -> Snapshot {
        var running: UInt64 = 0
        var cumulative: [UInt64] = []
        cumulative.reserveCapacity(cells.count)
        for c in cells {
            running &+= c.value.load(ordering: .relaxed)
            cumulative.append(running)
        }
        return Snapshot(cumulative: cumulative, sum: sum.value.load(ordering: .relaxed))
    }

    // MARK: Bucket sets the daemon uses

    /// Durations from 50 µs to 30 s (calls; the event loop answers some in tens of µs), in ns.
    static func callSeconds() -> MetricHistogram {
        let micros: [UInt64] = [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000,
                                250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000]
        return MetricHistogram(bounds: micros.map { $0 * 1000 }, divisor: 1e9)
    }

    /// Plugin calls, 0.5 ms to 60 s (one short sentence on a small model to a long video), in ns.
    static func embedSeconds() -> MetricHistogram {
        let micros: [UInt64] = [500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
                                1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000]
        return MetricHistogram(bounds: micros.map { $0 * 1000 }, divisor: 1e9)
    }

    /// Inputs per plugin call: powers of two up to 1024 (`limits.max_inputs_per_call`'s default).
    static func batchSize() -> MetricHistogram {
        MetricHistogram(bounds: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
    }

    /// WAL write + fdatasync, 25 µs (a fast NVMe) to 10 s (a dying disk), in ns.
    static func fsyncSeconds() -> MetricHistogram {
        let micros: [UInt64] = [25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000,
                                250_000, 500_000, 1_000_000, 10_000_000]
        return MetricHistogram(bounds: micros.map { $0 * 1000 }, divisor: 1e9)
    }
}
