import EmbedClient
import EmbedSys
import Foundation
import Testing

/// Rough edges a first day with embedd found (issue 25), each pinned by a test.
struct NewUserTests {
    /// `--socket` pointing at a directory or a regular file says so, instead of "embedd is not
    /// running" (connect(2) answers ECONNREFUSED for both).
    @Test func aSocketPathThatIsNoSocketIsNamedForWhatItIs() throws {
        let dir = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-newuser.XXXXXX")
        defer { _ = try? runProgram("/bin/rm", ["-rf", dir]) }
        let file = dir + "/regular"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)

        let onDir = try runProgram(Products.embedctl, ["--socket", dir, "status"])
        #expect(onDir.status != 0)
        #expect(onDir.stderr.contains("it is a directory, not embedd's socket"), "\(onDir.stderr)")
        #expect(!onDir.stderr.contains("not running"), "\(onDir.stderr)")

        let onFile = try runProgram(Products.embedctl, ["--socket", file, "status"])
        #expect(onFile.status != 0)
        #expect(onFile.stderr.contains("it is a regular file, not a socket"), "\(onFile.stderr)")

        // A socket file nobody listens on is still "not running".
        let stale = dir + "/stale.sock"
        let listener = try UnixSocket.listen(path: stale)
        try listener.close()
        let onStale = try runProgram(Products.embedctl, ["--socket", stale, "status"])
        #expect(onStale.stderr.contains("connection refused (embedd is not running)"), "\(onStale.stderr)")
    }

    /// A failed `plugins reload --path` says its problem once, naming the models it hit, and
    /// leaves no error mark on the models, which keep serving their previous generation.
    @Test func aFailedPluginReloadIsReportedOnceAndLeavesTheModelsHealthy() throws {
        let d = try TestDaemon(models: TestDaemon.fixtureModel(name: "a") + TestDaemon.fixtureModel(name: "b"))
        let r = try d.ctl(["plugins", "reload", "fixture", "--path", "no-such-plugin.so"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("models a, b: "), "\(r.stderr)")
        #expect(r.stderr.components(separatedBy: "plugin file not found").count == 2, "said once: \(r.stderr)")
        let models = try d.ctl(["models", "--format", "json"])
        let list = try #require(try JSONSerialization.jsonObject(with: models.stdoutBytes) as? [[String: Any]], "\(models.stdout)")
        #expect(list.count == 2)
        for m in list {
            #expect((m["error"] as? String ?? "").isEmpty, "\(m)")
            #expect(m["generation"] as? Int == 1 || m["generation"] as? Int == 2, "\(m)")
        }
        #expect(try d.ctl(["embed", "--model", "b", "still serving"]).status == 0)
        d.stop()
    }
}
