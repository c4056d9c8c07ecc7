@testable import EmbedStore
import EmbedSys
import Testing

/// SIGKILL a writing child process at random moments; every acknowledged write must survive
/// with its exact vector and metadata, and search must work after every recovery.
@Suite struct CrashTests {
    /// Same derivation as Tests/Fixtures/store-crasher (kept in sync by the checks below).
    static func vector(key: String, version: UInt64) -> [Float] {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ version
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return (0..<16).map { _ in
            h ^= h << 13; h ^= h >> 7; h ^= h << 17
            return Float(Int64(bitPattern: h >> 1) % 20001 - 10000) / 1000 + 0.001
        }
    }

    /// Per key: the state after the last acknowledged operation, plus states of operations
    /// tried after it (the one a kill interrupted may or may not have become durable).
    /// A state is a version, or nil for deleted.
    struct Model {
        var acked: [String: UInt64?] = [:]
        var tried: [String: [UInt64?]] = [:]
        var ackCount = 0

        mutating func read(_ text: String) {
            acked = [:]; tried = [:]; ackCount = 0
            // Only complete lines: a kill can cut the last one.
            let complete = text.hasSuffix("\n") ? Substring(text) : text[..<(text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex)]
            for line in complete.split(separator: "\n") {
                let f = line.split(separator: " ")
                let version = f.count == 3 ? UInt64(f[2]) : nil
                switch (f.first, f.count) {
                case ("T", 3) where version != nil: tried[String(f[1]), default: []].append(version)
                case ("TD", 2): tried[String(f[1]), default: []].append(nil)
                case ("A", 3) where version != nil: acked[String(f[1])] = .some(version); tried[String(f[1])] = []; ackCount += 1
                case ("AD", 2): acked[String(f[1])] = .some(nil); tried[String(f[1])] = []; ackCount += 1
                default: Issue.record("bad side-file line \(line)")
                }
            }
        }

        func allowed(_ key: String) -> [UInt64?] {
            var states: [UInt64?] = []
            if let a = acked[key] { states.append(a) } else { states.append(nil) }  // never acknowledged: absent allowed
            states += tried[key] ?? []
            return states
        }
    }

    static func crasherPath() throws -> String {
        let exe = try FileSystem.realPath("/proc/self/exe")
        return String(exe[..<exe.lastIndex(of: "/")!]) + "/store-crasher"
    }

    @Test func killNineAtRandomMoments() throws {
        let crasher = try CrashTests.crasherPath()
        try #require(FileSystem.isRegularFile(crasher), "build the store-crasher product first (swift build)")
        let dir = TempDirectory("crash")
        defer { dir.cleanup() }
        let store = dir.path + "/store", side = dir.path + "/side.log"
        var gen = DataGen(seed: 1234)
        var model = Model()
        var verifiedPresent = 0
        // 30 rounds in the suite; tools/store-stress sets STORE_CRASH_ROUNDS for many more.
        let rounds = Environment.get("STORE_CRASH_ROUNDS").flatMap { Int($0) } ?? 30
        for round in 0..<rounds {
            let child = try ChildProcess.spawn(crasher, arguments: [store, side, String(round + 1)], outputPath: dir.path + "/crasher.out")
            ChildProcess.sleep(seconds: 0.05 + Double(gen.next() % 250) / 1000)
            try child.send(signal: ChildProcess.killSignal)
            let end = try child.wait()
            if end != .signalled(ChildProcess.killSignal) {
                let out = (try? FileSystem.readFile(dir.path + "/crasher.out")).map { String(decoding: $0, as: UTF8.self) } ?? ""
                Issue.record("crasher ended with \(end) in round \(round): \(out)")
                return
            }
            let sideBytes = (try? FileSystem.readFile(side)) ?? []
            model.read(String(decoding: sideBytes, as: UTF8.self))
            // A kill can land inside a write(2) of the side file and leave a torn last line; cut
            // it off, or the next round's first line would be appended to it.
            if let last = sideBytes.lastIndex(of: UInt8(ascii: "\n")), last + 1 < sideBytes.count {
                let fd = try FileDescriptor.open(side, [.writeOnly])
                try fd.resize(to: Int64(last + 1))
                try fd.close()
            } else if !sideBytes.isEmpty && sideBytes.last != UInt8(ascii: "\n") {
                let fd = try FileDescriptor.open(side, [.writeOnly])
                try fd.resize(to: 0)
                try fd.close()
            }
            let logs = LogCollector()
            let catalog = try StoreCatalog(directory: store, options: OpenOptions(verification: .full), logger: logs.logger)
            guard let c = try? catalog.open("crash") else {
                #expect(model.ackCount == 0, "round \(round): collection missing after \(model.ackCount) acknowledgements")
                continue
            }
            var present: [(String, [Float])] = []
            for k in 0..<3000 {
                let key = "k\(k)"
                let allowed = model.allowed(key)
                guard let r = try c.get(key) else {
                    #expect(allowed.contains(where: { $0 == nil }), "round \(round): acknowledged key \(key) lost (allowed \(allowed))")
                    continue
                }
                let version = UInt64(r.metadata?.split(separator: ":").last?.dropLast() ?? "") ?? 0
                #expect(allowed.contains(where: { $0 == version }), "round \(round): \(key) has version \(version), allowed \(allowed)")
                #expect(r.metadata == "{\"key\":\"\(key)\",\"v\":\(version)}")
                #expect(r.vector == CrashTests.vector(key: key, version: version), "round \(round): \(key) vector differs")
                present.append((key, r.vector))
            }
            #expect(c.count == present.count)
            for (key, v) in present.prefix(25) {
                let hits = try c.search(v, k: 5)
                #expect(hits.contains { $0.key == key }, "round \(round): search did not find \(key): \(c.graphHealth(key: key))")
            }
            verifiedPresent += present.count
            try catalog.closeAll()
        }
        #expect(model.ackCount > 100, "the crasher should have acknowledged many writes (\(model.ackCount))")
        #expect(verifiedPresent > 0)
    }
}
