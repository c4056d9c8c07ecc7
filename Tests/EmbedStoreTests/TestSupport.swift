@testable import EmbedStore
import EmbedSys
import Synchronization

/// A fresh directory under /tmp, removed by `cleanup()`.
struct TempDirectory {
    let path: String

    init(_ label: String) {
        path = "/tmp/embedstore-test-\(Environment.processID)-\(label)-\(UInt32.random(in: 0...UInt32.max))"
        StoreCatalog.removeTree(path)
        try! FileSystem.makeDirectories(path)
    }

    func cleanup() { StoreCatalog.removeTree(path) }
}

/// Collects log lines so tests can assert on them.
final class LogCollector: Sendable {
    let lines = Mutex<[(LogLevel, String)]>([])
    var logger: StoreLogger { { [self] level, message in lines.withLock { $0.append((level, message)) } } }
    func contains(_ level: LogLevel, _ fragment: String) -> Bool {
        lines.withLock { $0.contains { $0.0 == level && $0.1.contains(fragment) } }
    }
}

/// Deterministic data sets.
struct DataGen {
    var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }

    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Approximately normal (sum of uniforms).
    mutating func gaussian() -> Float { (0..<4).reduce(Float(0)) { acc, _ in acc + uniform() } - 2 }

    mutating func random(n: Int, dim: Int) -> [[Float]] {
        (0..<n).map { _ in (0..<dim).map { _ in uniform() * 2 - 1 } }
    }

    /// `n` points and `queries` queries around the same `clusters` centres.
    mutating func clustered(n: Int, queries: Int, dim: Int, clusters: Int = 50, spread: Float = 0.35) -> ([[Float]], [[Float]]) {
        let centres = (0..<clusters).map { _ in (0..<dim).map { _ in gaussian() * 2 } }
        let all = (0..<(n + queries)).map { _ in
            let c = centres[Int(next() % UInt64(clusters))]
            return c.map { $0 + gaussian() * spread }
        }
        return (Array(all[..<n]), Array(all[n...]))
    }
}

enum BruteForce {
    static func distance(_ a: [Float], _ b: [Float], _ metric: Metric) -> Float {
        switch metric {
        case .l2: return zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        case .innerProduct: return -zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        case .cosine:
            let dot = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
            let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot(), nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return 1 - dot / (na * nb)
        }
    }

    /// Indices of the k nearest among `items` (those passing `include`).
    static func topK(_ q: [Float], _ items: [[Float]], k: Int, metric: Metric, include: (Int) -> Bool = { _ in true }) -> [Int] {
        var scored: [(Float, Int)] = []
        for (i, v) in items.enumerated() where include(i) { scored.append((distance(q, v, metric), i)) }
        scored.sort { $0.0 < $1.0 }
        return scored.prefix(k).map(\.1)
    }
}

/// Mean recall@k of the collection against brute force over `items` keyed "\(index)".
func recall(_ c: VectorCollection, queries: [[Float]], items: [[Float]], k: Int = 10, ef: Int? = nil,
            include: (Int) -> Bool = { _ in true }) throws -> Double {
    var total = 0.0
    for q in queries {
        let truth = Set(BruteForce.topK(q, items, k: k, metric: c.config.metric, include: include).map(String.init))
        let got = try c.search(q, k: k, ef: ef).map(\.key)
        total += Double(truth.intersection(got).count) / Double(max(truth.count, 1))
    }
    return total / Double(queries.count)
}

func makeCollection(_ dir: TempDirectory, _ name: String = "c", dim: Int, metric: Metric, options: OpenOptions = OpenOptions(),
                    hnsw: HNSWParameters = HNSWParameters(), logger: @escaping StoreLogger = { _, _ in }) throws -> (StoreCatalog, VectorCollection) {
    let catalog = try StoreCatalog(directory: dir.path, options: options, logger: logger)
    let c = try catalog.create(name, config: CollectionConfig(dimension: dim, metric: metric, hnsw: hnsw))
    return (catalog, c)
}

func upsertAll(_ c: VectorCollection, _ items: [[Float]], batch: Int = 500, metadata: (Int) -> String? = { _ in nil }) throws {
    var i = 0
    while i < items.count {
        let end = min(items.count, i + batch)
        try c.upsert((i..<end).map { Record(key: String($0), vector: items[$0], metadata: metadata($0)) })
        i = end
    }
}
