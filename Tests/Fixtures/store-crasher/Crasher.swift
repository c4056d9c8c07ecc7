import EmbedStore
import EmbedSys

/// The child process of the store's crash test: writes to a collection forever, logging each
/// attempt ("T") before and each acknowledgement ("A") after the call returns, until the test
/// kills it with SIGKILL. Vectors and metadata derive from (key, version), so the test can
/// check exact contents.
///
///     store-crasher DIR SIDEFILE SEED
enum Crasher {
    static let dimension = 16
    static let keySpace = 3000

    static func run() {
        let args = CommandLine.arguments
        guard args.count == 4, let seed = UInt64(args[3]) else {
            try? FileDescriptor.standardError.writeAll(Array("usage: store-crasher DIR SIDEFILE SEED\n".utf8))
            Environment.exit(2)
        }
        do {
            let catalog = try StoreCatalog(directory: args[1], options: OpenOptions(checkpointLogBytes: 48 << 10, seed: seed))
            let c: VectorCollection
            if let existing = try? catalog.open("crash") { c = existing } else {
                c = try catalog.create("crash", config: CollectionConfig(dimension: dimension, metric: .cosine))
            }
            let side = try FileDescriptor.open(args[2], [.writeOnly, .create, .append])
            var rng = seed &* 0x9E37_79B9_7F4A_7C15 | 1
            func next() -> UInt64 {
                rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
                return rng
            }
            var counter = seed << 32
            while true {
                let n = Int(next() % 8) + 1
                if next() % 10 == 0 {
                    let keys = (0..<n).map { _ in "k\(next() % UInt64(keySpace))" }
                    try side.writeAll(Array(keys.map { "TD \($0)\n" }.joined().utf8))
                    try c.delete(keys)
                    try side.writeAll(Array(keys.map { "AD \($0)\n" }.joined().utf8))
                } else {
                    var records: [Record] = []
                    var seen = Set<String>()
                    for _ in 0..<n {
                        let key = "k\(next() % UInt64(keySpace))"
                        guard seen.insert(key).inserted else { continue }
                        counter += 1
                        records.append(Record(key: key, vector: vector(key: key, version: counter), metadata: metadata(key: key, version: counter)))
                    }
                    try side.writeAll(Array(records.map { "T \($0.key) \(version(of: $0))\n" }.joined().utf8))
                    try c.upsert(records)
                    try side.writeAll(Array(records.map { "A \($0.key) \(version(of: $0))\n" }.joined().utf8))
                }
            }
        } catch {
            try? FileDescriptor.standardError.writeAll(Array("store-crasher: \(error)\n".utf8))
            Environment.exit(1)
        }
    }

    static func version(of r: Record) -> String {
        String(r.metadata!.split(separator: ":").last!.dropLast())
    }

    /// The vector of (key, version); public so the test derives the same one.
    static func vector(key: String, version: UInt64) -> [Float] {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ version
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return (0..<dimension).map { _ in
            h ^= h << 13; h ^= h >> 7; h ^= h << 17
            return Float(Int64(bitPattern: h >> 1) % 20001 - 10000) / 1000 + 0.001
        }
    }

    static func metadata(key: String, version: UInt64) -> String {
        "{\"key\":\"\(key)\",\"v\":\(version)}"
    }
}
