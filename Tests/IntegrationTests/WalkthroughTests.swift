import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// The README's "Use it" block, run verbatim (issue 25): a daemon started the way
/// tools/quickstart starts it (default configuration, ./run/embedd.sock, ./run/data, plugins
/// staged by tools/stage-plugins, ./models), then every line of the block in bash with `set -e`,
/// from a folder laid out like a checkout (.build/release and models linked in).
@Suite(.serialized) struct WalkthroughTests {
    static let modelsMissing = ServingFixtures.skipReason([ServingFixtures.miniLM, ServingFixtures.mpnet])

    /// The first ```sh block after `heading` in `file`.
    static func block(_ file: String, after heading: String) throws -> String {
        let text = try String(contentsOfFile: Products.repoRoot + "/" + file, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "\n" + heading + "\n").dropFirst().first, "\(file) has no \(heading)")
        return try #require(section.components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "```").first)
    }

    @Test(.enabled(if: modelsMissing == nil, "all-MiniLM-L6-v2 / all-mpnet-base-v2 absent: run tools/fetch-models"))
    func theReadmeRunsAsWritten() throws {
        let work = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-readme.XXXXXX")
        defer { _ = try? runProgram("/bin/rm", ["-rf", work]) }
        try FileManager.default.createDirectory(atPath: work + "/.build", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: work + "/.build/release", withDestinationPath: Products.directory)
        try FileManager.default.createSymbolicLink(atPath: work + "/models", withDestinationPath: Products.repoRoot + "/models")
        try FileManager.default.createDirectory(atPath: work + "/run/data", withIntermediateDirectories: true)
        let staged = try runProgram(Products.repoRoot + "/tools/stage-plugins", [Products.directory, work + "/run/plugins"])
        try #require(staged.status == 0, "\(staged.stderr)")

        // As tools/quickstart runs it.
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: Products.embedd)
        daemon.arguments = ["--config", Products.repoRoot + "/etc/embedd/embedd.yaml", "--socket", work + "/run/embedd.sock",
                            "--data-dir", work + "/run/data", "--plugins-dir", work + "/run/plugins", "--models-dir", work + "/models"]
        var env = ProcessInfo.processInfo.environment
        for k in ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "EMBEDD_SOCKET"] { env.removeValue(forKey: k) }
        daemon.environment = env
        let log = work + "/daemon.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        daemon.standardOutput = FileHandle(forWritingAtPath: log)
        daemon.standardError = FileHandle(forWritingAtPath: log)
        try daemon.run()
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGTERM); daemon.waitUntilExit() } }
        let ready = Date().addingTimeInterval(120)
        var serving = false
        while Date() < ready && daemon.isRunning && !serving {
            if let c = try? EmbedClient(socketPath: work + "/run/embedd.sock", timeoutSeconds: 5),
               let s = try? c.call(.status, StatusRequest(), as: StatusResponse.self),
               s.state == "serving", s.models.allSatisfy({ $0.state == .ready }) {
                serving = true
            } else {
                usleep(50_000)
            }
        }
        try #require(serving, "the daemon did not serve both models: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")

        let script = try Self.block("README.md", after: "## Use it")
        let r = try runProgram("/bin/bash", ["-c", "set -euo pipefail; cd '\(work)'\n" + script], timeout: 300)
        #expect(r.status == 0, "the README's commands failed:\n\(r.stdout)\n\(r.stderr)")
        // What a reader is shown: both models, a plugin check that passes, search hits.
        #expect(r.stdout.contains("all-mpnet-base-v2") && r.stdout.contains("all-MiniLM-L6-v2"))
        #expect(r.stdout.contains("Money will say more"), "the search for cash found the fortune about money:\n\(r.stdout)")
        #expect(r.stdout.contains("\"f2\""), "the filtered JSON search lists the stored fortune:\n\(r.stdout)")
        #expect(!r.stdout.contains("libembedd-fixture"), "the test fixture is not among a user's plugins")
    }
}
