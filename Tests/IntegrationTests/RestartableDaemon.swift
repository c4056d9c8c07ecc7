import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// A real `embedd` process on a private directory that can be killed and started again on the
/// same socket, configuration and data directory (restart and crash tests of the store).
final class RestartableDaemon {
    let directory: String
    let socketPath: String
    let configPath: String
    let logPath: String
    private(set) var process: Process?

    /// Writes the configuration (`models` is the YAML list body) and starts the daemon.
    init(models: String, settings: String = "", start: Bool = true) throws {
        try Products.require()
        directory = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-serve.XXXXXX")
        chmod(directory, 0o755)  // so `nobody` can reach the socket
        socketPath = directory + "/embedd.sock"
        configPath = directory + "/embedd.yaml"
        logPath = directory + "/embedd.log"
        try FileManager.default.createDirectory(atPath: directory + "/plugins", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/models/fixture-model", withIntermediateDirectories: true)
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
        \(models)
        """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        if start { try self.start() }
    }

    /// Starts the daemon (again) and waits until every configured model has finished loading
    /// (with `waitForModels` false, only until it answers Status).
    func start(timeout: Double = 120, waitForModels: Bool = true) throws {
        precondition(process?.isRunning != true, "already running")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Products.embedd)
        p.arguments = ["--config", configPath]
        var environment = ProcessInfo.processInfo.environment
        for k in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "EMBEDD_SOCKET"] { environment.removeValue(forKey: k) }
        p.environment = environment
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard p.isRunning else { throw TestFailure("embedd exited with \(p.terminationStatus) during start-up:\n\(log)") }
            if let c = try? EmbedClient(socketPath: socketPath, timeoutSeconds: 5),
               let s = try? c.call(.status, StatusRequest(), as: StatusResponse.self),
               !waitForModels || (s.state != "starting" && s.models.allSatisfy({ $0.state != .loading })) {
                return
            }
            usleep(20_000)
        }
        throw TestFailure("embedd did not become ready within \(timeout) s:\n\(self.log)")
    }

    /// SIGKILL: no drain, no flush; what was acknowledged must survive.
    func kill9() {
        guard let p = process, p.isRunning else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// SIGTERM and wait; the exit status, or nil if it did not stop within `timeout`.
    @discardableResult
    func stop(timeout: Double = 60) -> Int32? {
        guard let p = process else { return nil }
        if p.isRunning { kill(p.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        return p.isRunning ? nil : p.terminationStatus
    }

    var isRunning: Bool { process?.isRunning ?? false }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func client(timeout: Double = 60) throws(ClientError) -> EmbedClient {
        try EmbedClient(socketPath: socketPath, clientName: "serving-test", timeoutSeconds: timeout)
    }

    /// Runs embedctl against this daemon, as root or (for permission tests) as `nobody`.
    func ctl(_ args: [String], stdin: Data? = nil, asNobody: Bool = false, timeout: Double = 300) throws -> RunResult {
        if asNobody {
            // The build directory may sit under a home that `nobody` cannot enter: run a copy.
            let copy = directory + "/embedctl"
            if !FileManager.default.fileExists(atPath: copy) {
                // Copied by cp(1), not from this process: a write descriptor open here would be
                // inherited by a child another test thread forks meanwhile, and exec of the
                // copy would fail with ETXTBSY (exit 126) while that child lives.
                let cp = try runProgram("/bin/cp", [Products.embedctl, copy])
                guard cp.status == 0 else { throw TestFailure("cp embedctl: \(cp.stderr)") }
                chmod(copy, 0o755)
            }
            return try runProgram("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", copy, "--socket", socketPath] + args,
                                  stdin: stdin, timeout: timeout)
        }
        return try runProgram(Products.embedctl, ["--socket", socketPath] + args, stdin: stdin, timeout: timeout)
    }

    deinit {
        if let p = process, p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Parses embedctl's JSON output, failing the test with the command's stderr when it is not JSON.
func jsonOutput(_ r: RunResult) throws -> Any {
    do { return try JSONSerialization.jsonObject(with: r.stdoutBytes, options: [.fragmentsAllowed]) } catch {
        throw TestFailure("output is not JSON (exit \(r.status)): \(r.stdout.prefix(2000))\nstderr: \(r.stderr.prefix(2000))")
    }
}
