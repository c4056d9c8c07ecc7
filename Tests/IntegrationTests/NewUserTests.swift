import EmbedClient
import EmbedSys
import EmbedWire
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

    /// Calls for a model that is still loading wait for it within their deadline instead of
    /// failing UNAVAILABLE; a model that failed to load fails them at once (issue 25, item 8).
    @Test func callsForALoadingModelWaitForItWithinTheirDeadline() throws {
        let models = TestDaemon.fixtureModel(name: "slow", options: ["load_delay_ms": "2000"], isDefault: true)
            + TestDaemon.fixtureModel(name: "broken", options: ["fail_load": "1"])
        let d = try RestartableDaemon(models: models)
        // A collection bound to the slow model, then a restart: the model loads again (2 s).
        let c0 = try d.client()
        _ = try c0.createCollection("docs", model: "slow")
        _ = try c0.upsert("docs", [UpsertItem(key: "a", value: .input(.text("alpha beta")))])
        _ = d.stop()
        let t0 = Date()
        try d.start(waitForModels: false)
        // Status answers while a model loads (it once waited for the plugin's load_model, and
        // with it the whole event loop).
        #expect(Date().timeIntervalSince(t0) < 1.0, "Status waited for the model load")
        let c = try d.client()
        let started = Date()
        #expect(try c.call(.status, StatusRequest(), as: StatusResponse.self).models.first?.state == .loading)

        // Too short a deadline: DEADLINE_EXCEEDED, not UNAVAILABLE.
        let (short, _) = callStatus { _ = try c.embed(model: "slow", inputs: [.text("x")], deadlineMilliseconds: 200) }
        #expect(short == .deadlineExceeded)
        // Within the deadline: the calls wait for the load and succeed.
        let search = try c.search("docs", [SearchQuery(.input(.text("alpha beta")))], k: 1, deadlineMilliseconds: 30_000)
        #expect(search.results.first?.hits.first?.key == "a")
        let upsert = try c.upsert("docs", [UpsertItem(key: "b", value: .input(.text("gamma")))], deadlineMilliseconds: 30_000)
        #expect(upsert.results.first?.error == "", "\(upsert.results)")
        let embed = try c.embed(model: "slow", inputs: [.text("hello")], deadlineMilliseconds: 30_000)
        #expect(embed.vectors.count == 1)
        #expect(Date().timeIntervalSince(started) >= 1.0, "the first answers came before the model could have loaded")

        // A model that failed to load: at once, with its reason.
        let settle = Date().addingTimeInterval(30)
        while Date() < settle, try c.call(.status, StatusRequest(), as: StatusResponse.self).models.contains(where: { $0.state == .loading }) {
            usleep(20_000)
        }
        let failedAt = Date()
        let (code, message) = callStatus { _ = try c.embed(model: "broken", inputs: [.text("x")], deadlineMilliseconds: 30_000) }
        #expect(code == .failedPrecondition && message.contains("fail_load=1"), "\(message)")
        #expect(Date().timeIntervalSince(failedAt) < 1.0)
        _ = d.stop()
    }

    /// tools/quickstart's plugins_dir holds the plugins a user runs, not the test fixture
    /// (issue 25, item 4: `plugins list` showed it).
    @Test func quickstartStagesRealPluginsOnly() throws {
        let dir = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-stage.XXXXXX")
        defer { _ = try? runProgram("/bin/rm", ["-rf", dir]) }
        let r = try runProgram(Products.repoRoot + "/tools/stage-plugins", [Products.directory, dir + "/plugins"])
        #expect(r.status == 0, "\(r.stderr)")
        let staged = try FileManager.default.contentsOfDirectory(atPath: dir + "/plugins").sorted()
        #expect(staged.contains("libembedd-text.so"))
        #expect(!staged.contains("libembedd-fixture.so"), "\(staged)")
        let quickstart = try String(contentsOfFile: Products.repoRoot + "/tools/quickstart", encoding: .utf8)
        #expect(quickstart.contains("tools/stage-plugins .build/release run/plugins") && quickstart.contains("--plugins-dir \"$repo/run/plugins\""))
    }
}
