import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// Where the built products live: next to the test binary (CI runs `swift build` first).
enum Products {
    static let directory: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        // Linux test bundles are executables inside .build/<config>/; be tolerant of an .xctest dir.
        if dir.hasSuffix(".xctest") { dir = (dir as NSString).deletingLastPathComponent }
        return dir
    }()
    static var embedd: String { directory + "/embedd" }
    static var embedctl: String { directory + "/embedctl" }
    static var fixturePlugin: String { directory + "/libembedd-fixture.so" }
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static func require() throws {
        for p in [embedd, embedctl, fixturePlugin] {
            try #require(FileManager.default.isExecutableFile(atPath: p) || FileManager.default.fileExists(atPath: p),
                         "\(p) is missing: run `swift build` (all products) before the tests")
        }
    }
}

/// Result of running a command.
struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutBytes: Data
}

/// Runs a program to completion, feeding `stdin`.
@discardableResult
func runProgram(_ path: String, _ args: [String], env: [String: String] = [:], stdin: Data? = nil, timeout: Double = 60) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "NOTIFY_SOCKET")
    environment.removeValue(forKey: "EMBEDD_SOCKET")
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    if let stdin { inp.fileHandleForWriting.write(stdin) }
    try? inp.fileHandleForWriting.close()
    // Read both pipes concurrently so a chatty child cannot block on a full pipe.
    let errBox = DataBox()
    let errThread = Thread { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
    errThread.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(5000) }
    if p.isRunning { p.terminate(); Issue.record("\(path) \(args) timed out") }
    p.waitUntilExit()
    while errBox.data == nil { usleep(1000) }
    return RunResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errBox.data ?? Data(), as: UTF8.self), stdoutBytes: outData)
}

final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Data?
    var data: Data? {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }
}

/// A real `embedd` process on a private socket, config and data directory.
final class TestDaemon {
    let directory: String
    let socketPath: String
    let configPath: String
    let logPath: String
    let process: Process
    private var stopped = false

    /// The fixture model `fx` (dim 16), plus whatever `models` adds.
    static func fixtureModel(name: String = "fx", options: [String: String] = [:], isDefault: Bool = false) -> String {
        var opts = ["dim": "16"]
        for (k, v) in options { opts[k] = v }
        let o = opts.keys.sorted().map { "\($0): \"\(opts[$0]!)\"" }.joined(separator: ", ")
        return """
          - name: \(name)
            plugin: \(Products.fixturePlugin)
            model_dir: fixture-model
            options: { \(o) }\(isDefault ? "\n    default: true" : "")

        """
    }

    init(models: String? = nil, settings: String = "", env: [String: String] = [:], launcher: [String] = [],
         extraArguments: [String] = [], waitForReady: Bool = true) throws {
        try Products.require()
        directory = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-it.XXXXXX")
        chmod(directory, 0o755)  // so `nobody` can reach the socket
        try FileManager.default.createDirectory(atPath: directory + "/models/fixture-model", withIntermediateDirectories: true)
        socketPath = directory + "/embedd.sock"
        configPath = directory + "/embedd.yaml"
        logPath = directory + "/embedd.log"
        let config = """
        socket:
          path: \(socketPath)
          mode: "0666"
        data_dir: data
        models_dir: models
        plugins_dir: plugins
        log_level: debug
        \(settings)
        models:
        \(models ?? Self.fixtureModel())
        """
        try FileManager.default.createDirectory(atPath: directory + "/plugins", withIntermediateDirectories: true)
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        let command = launcher + [Products.embedd, "--config", configPath] + extraArguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        for k in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "EMBEDD_SOCKET"] { environment.removeValue(forKey: k) }
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        let log = FileHandle(forWritingAtPath: logPath)!
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        if waitForReady { try self.waitForReady() }
    }

    /// Waits until the start-up model loading is over (Status leaves "starting").
    func waitForReady(timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else {
                throw TestFailure("embedd exited with \(process.terminationStatus) during start-up:\n\(log)")
            }
            if let c = try? EmbedClient(socketPath: socketPath, timeoutSeconds: 5),
               let s = try? c.call(.status, StatusRequest(), as: StatusResponse.self), s.state != "starting" {
                return
            }
            usleep(20_000)
        }
        throw TestFailure("embedd did not become ready within \(timeout) s:\n\(log)")
    }

    func client(timeout: Double = 30) throws(ClientError) -> EmbedClient {
        try EmbedClient(socketPath: socketPath, clientName: "integration-test", timeoutSeconds: timeout)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    var pid: Int32 { process.processIdentifier }

    func signal(_ s: Int32) { kill(process.processIdentifier, s) }

    /// Waits for exit; returns the status (or nil on timeout).
    func waitForExit(timeout: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        guard !process.isRunning else { return nil }
        stopped = true
        return process.terminationStatus
    }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    func stop() -> Int32? {
        guard !stopped else { return process.terminationStatus }
        signal(SIGTERM)
        return waitForExit()
    }

    /// Runs embedctl against this daemon.
    func ctl(_ args: [String], stdin: Data? = nil, asNobody: Bool = false, groups: [String] = []) throws -> RunResult {
        if asNobody {
            // The build directory may sit under a home that `nobody` cannot enter (/root is 0700):
            // run a copy from this daemon's world-readable directory.
            let copy = directory + "/embedctl"
            if !FileManager.default.fileExists(atPath: copy) {
                // Copied by cp(1), not from this process: a write descriptor open here would be
                // inherited by a child another test thread forks meanwhile, and exec of the
                // copy would fail with ETXTBSY (exit 126) while that child lives.
                let cp = try runProgram("/bin/cp", [Products.embedctl, copy])
                guard cp.status == 0 else { throw TestFailure("cp embedctl: \(cp.stderr)") }
                chmod(copy, 0o755)
            }
            let groupArgs = groups.isEmpty ? ["--clear-groups"] : ["--groups=" + groups.joined(separator: ",")]
            return try runProgram("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup"] + groupArgs + [copy,
                                                      "--socket", socketPath] + args)
        }
        return try runProgram(Products.embedctl, ["--socket", socketPath] + args, stdin: stdin)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The status a client call ended with: `.ok`, the RPC status (or a GOAWAY's) and its message,
/// or nil and the error's text for anything else.
func callStatus(_ body: () throws -> Void) -> (StatusCode?, String) {
    do { try body() } catch {
        if case .rpc(let c, let m)? = error as? ClientError { return (c, m) }
        if case .goAway(let c, let m)? = error as? ClientError { return (c, m) }
        return (nil, "\(error)")
    }
    return (.ok, "")
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
