@testable import EmbedStore
import EmbedSys
import Testing

/// Damage found when a collection opens is logged — once, naming the file and the offset —
/// not only returned to each caller; and the log's torn-tail warning claims no more than
/// the code guarantees.
@Suite struct OpenFailureReportTests {
    static func errorLines(_ logs: LogCollector) -> [String] {
        logs.lines.withLock { $0.filter { $0.0 == .error }.map(\.1) }
    }

    @Test func damageFoundAtOpenIsLoggedOncePerCollection() throws {
        let dir = TempDirectory("openlog")
        defer { dir.cleanup() }
        _ = try FaultInjectionTests.build(dir)
        let wal = dir.path + "/f/wal.log"
        let original = try FileSystem.readFile(wal)
        var bytes = original
        bytes[WriteAheadLog.headerSize + 40] ^= 0x10  // inside the first record: acknowledged data
        try FaultInjectionTests.write(wal, bytes)
        let logs = LogCollector()
        let catalog = try StoreCatalog(directory: dir.path, logger: logs.logger)
        for _ in 0..<3 { #expect(throws: StoreError.self) { try catalog.open("f") } }
        let lines = Self.errorLines(logs)
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first.map { $0.contains("'f'") && $0.contains("/f/wal.log") && $0.contains("offset \(WriteAheadLog.headerSize)") } == true,
                "\(lines)")
        // Repaired: it opens, and damage found later is logged again.
        try FaultInjectionTests.write(wal, original)
        let c = try catalog.open("f")
        c.abandon()
        try catalog.close("f")
        try FaultInjectionTests.write(wal, bytes)
        #expect(throws: StoreError.self) { try catalog.open("f") }
        #expect(Self.errorLines(logs).count == 2)
    }

    @Test func aSnapshotChecksumFailureNamesTheSectionOffset() throws {
        let dir = TempDirectory("openlogsnap")
        defer { dir.cleanup() }
        _ = try FaultInjectionTests.build(dir)
        let snap = dir.path + "/f/index.snap"
        var bytes = try FileSystem.readFile(snap)
        bytes[4096 + 300] ^= 0x40  // in the nodes section, which starts at 4096
        try FaultInjectionTests.write(snap, bytes)
        let logs = LogCollector()
        let catalog = try StoreCatalog(directory: dir.path, options: OpenOptions(verification: .full), logger: logs.logger)
        #expect(throws: StoreError.self) { try catalog.open("f") }
        let lines = Self.errorLines(logs)
        #expect(lines.count == 1 && lines[0].contains("/f/index.snap") && lines[0].contains("offset 4096"), "\(lines)")
    }

    /// A torn last record was incomplete; whether it had been acknowledged the log cannot
    /// know (a crash cannot tear an acknowledged record — acknowledgement follows fdatasync —
    /// but damage to the file afterwards can), so the warning must not say "never acknowledged".
    @Test func theTornTailWarningIsTruthful() throws {
        let dir = TempDirectory("tornword")
        defer { dir.cleanup() }
        _ = try FaultInjectionTests.build(dir)
        let wal = dir.path + "/f/wal.log"
        var bytes = FaultInjectionTests.logicalLog(try FileSystem.readFile(wal))
        bytes.removeLast(7)
        try FaultInjectionTests.write(wal, bytes)
        let logs = LogCollector()
        let c = try StoreCatalog(directory: dir.path, logger: logs.logger).open("f")
        c.abandon()
        let warning = logs.lines.withLock { $0.first { $0.0 == .warning && $0.1.contains("torn or corrupt tail") }?.1 } ?? ""
        #expect(warning.contains("incomplete"), "\(warning)")
        #expect(warning.contains("fdatasync"), "\(warning)")
        #expect(!warning.contains("never acknowledged)"), "\(warning)")
    }
}
