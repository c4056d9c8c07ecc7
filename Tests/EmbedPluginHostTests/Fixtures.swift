import EmbedSys
import EmbedPluginHost
import Synchronization

/// Paths and helpers shared by the plugin-host tests. Everything here is real: the fixture is
/// the C plugin SwiftPM built next to this test binary, and variants are compiled with `cc`.
enum Fixtures {
    /// The directory holding this test binary and every product of the same build.
    static let productsDirectory: String = {
        let exe = (try? FileSystem.realPath("/proc/self/exe")) ?? "."
        var dir = String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)])
        // swift-testing may run from inside an .xctest bundle directory.
        while dir.hasSuffix(".xctest") || dir.contains(".xctest/") {
            dir = String(dir[..<dir.lastIndex(of: "/")!])
        }
        return dir
    }()

    /// The package root (for the ABI header and the fixture source).
    static let packageRoot: String = {
        let file = #filePath
        let parts = file.split(separator: "/", omittingEmptySubsequences: false)
        return parts.dropLast(3).joined(separator: "/")
    }()

    /// The C fixture plugin built by `swift build`.
    static var fixturePlugin: String {
        let p = productsDirectory + "/libembedd-fixture.so"
        precondition(FileSystem.exists(p), "\(p) is missing: run `swift build` before `swift test` (CI's .ci/run does)")
        return p
    }

    /// A fresh temporary directory.
    static func temporaryDirectory(_ tag: String) -> String {
        try! FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-test-\(tag)-XXXXXX")
    }

    /// A model directory the fixture accepts.
    static func modelDirectory(salt: String? = nil) -> String {
        let dir = temporaryDirectory("model")
        if let salt {
            let fd = try! FileDescriptor.open(dir + "/fixture.txt", [.writeOnly, .create, .truncate])
            try! fd.writeAll(Array((salt + "\n").utf8))
            try! fd.close()
        }
        return dir
    }

    /// Compiles the fixture's source with extra `-D` flags into a new .so and returns its path.
    static func compileVariant(_ defines: [String], name: String) throws -> String {
        let out = temporaryDirectory("variant") + "/\(name).so"
        let log = out + ".log"
        let child = try ChildProcess.spawn("/usr/bin/cc", arguments: [
            "-shared", "-fPIC", "-O1", "-I", packageRoot + "/Sources/CEmbedABI/include",
            "-I", packageRoot + "/Tests/Fixtures/CFixturePlugin/include",
            packageRoot + "/Tests/Fixtures/CFixturePlugin/fixture.c", "-lm", "-o", out,
        ] + defines.map { "-D" + $0 }, outputPath: log)
        guard try child.wait() == .exited(0) else {
            throw CompileError(log: String(decoding: (try? FileSystem.readFile(log)) ?? [], as: UTF8.self))
        }
        return out
    }
    struct CompileError: Error { let log: String }

    /// A host whose log lines are collected for assertions.
    static func host(pluginsDirectory: String? = nil) -> (PluginHost, LogLines) {
        let lines = LogLines()
        return (PluginHost(pluginsDirectory: pluginsDirectory, log: { level, message in lines.append(level, message) }), lines)
    }

    /// Resident set size of this process in bytes (/proc/self/statm).
    static func residentBytes() -> Int {
        let text = String(decoding: (try? FileSystem.readFile("/proc/self/statm")) ?? [], as: UTF8.self)
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * 4096 : 0
    }
}

/// Thread-safe collection of log lines.
final class LogLines: Sendable {
    private let lines = Mutex<[(LogLevel, String)]>([])
    func append(_ level: LogLevel, _ message: String) { lines.withLock { $0.append((level, message)) } }
    var all: [String] { lines.withLock { $0.map(\.1) } }
    func contains(_ fragment: String) -> Bool { all.contains { $0.contains(fragment) } }
}
