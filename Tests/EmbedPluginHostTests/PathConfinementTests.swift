import EmbedSys
import Testing
@testable import EmbedPluginHost

/// Issue 17, defect 11: relative plugin paths and model directories stay inside `plugins_dir`
/// and `models_dir` — after `..` and symbolic links — while absolute paths (from the config
/// file or an admin) are used as given.
@Suite struct PathConfinementTests {
    /// `<root>/plugins` (with `libembedd-fixture.so` and `sub/libembedd-fixture.so` inside),
    /// `<root>/outside/libembedd-fixture.so`, and symlinks in the plugins directory that point
    /// outside (`libembedd-sneaky.so`, `sneaky.so`) and inside (`libembedd-alias.so`).
    static func layout() throws -> (root: String, plugins: String) {
        let root = Fixtures.temporaryDirectory("confine")
        let plugins = root + "/plugins"
        for dir in [plugins, plugins + "/sub", root + "/outside"] { try FileSystem.makeDirectories(dir, permissions: 0o755) }
        for copy in [plugins + "/libembedd-fixture.so", plugins + "/sub/libembedd-fixture.so", root + "/outside/libembedd-fixture.so"] {
            try FileSystem.copyFile(from: Fixtures.fixturePlugin, to: copy)
        }
        try Self.symlink(root + "/outside/libembedd-fixture.so", at: plugins + "/libembedd-sneaky.so")
        try Self.symlink("../outside/libembedd-fixture.so", at: plugins + "/sneaky.so")
        try Self.symlink("sub/libembedd-fixture.so", at: plugins + "/libembedd-alias.so")
        return (root, plugins)
    }

    /// `ln -s target link` (EmbedSys has no symlink wrapper; the daemon never makes links).
    static func symlink(_ target: String, at link: String) throws {
        let child = try ChildProcess.spawn("/bin/ln", arguments: ["-s", target, link])
        try #require(try child.wait() == .exited(0), "ln -s \(target) \(link)")
    }

    @Test(arguments: ["../outside/libembedd-fixture.so", "sub/../../outside/libembedd-fixture.so", "sneaky.so", "sneaky",
                      "./sneaky.so", "../outside/missing.so"])
    func relativePluginPathsOutsideThePluginsDirectoryAreRefused(path: String) throws {
        let (root, plugins) = try Self.layout()
        let (host, _) = Fixtures.host(pluginsDirectory: plugins)
        defer { host.shutdown() }
        let error = #expect(throws: PluginError.self) { try host.loadPlugin(path: path) }
        #expect(error?.kind == .outsideDirectory, "\(path): \(String(describing: error))")
        let message = error?.message ?? ""
        #expect(message.contains("'\(path)'") && message.contains("plugins_dir \(plugins)") && message.contains(root + "/outside/"),
                "the refusal names the path, where it leads and the directory: \(message)")
        // Through a model's plugin (a config entry or LoadModel) just the same.
        let viaModel = #expect(throws: PluginError.self) {
            try host.loadModel(ModelSpec(name: "m", plugin: path, modelDirectory: Fixtures.modelDirectory()))
        }
        #expect(viaModel?.kind == .outsideDirectory)
        #expect(host.plugins().isEmpty && host.models().isEmpty)
    }

    @Test(arguments: ["libembedd-fixture.so", "sub/libembedd-fixture.so", "./sub/../libembedd-fixture.so", "fixture", "alias"])
    func relativePluginPathsInsideThePluginsDirectoryLoadFromIt(path: String) throws {
        let (_, plugins) = try Self.layout()
        let (host, _) = Fixtures.host(pluginsDirectory: plugins)
        defer { host.shutdown() }
        let p = try host.loadPlugin(path: path)
        #expect(p.name == "fixture")
        #expect(p.path.hasPrefix(plugins + "/"), "resolved against plugins_dir, not the working directory: \(p.path)")
    }

    @Test func absolutePluginPathsAreUsedAsGiven() throws {
        let (root, plugins) = try Self.layout()
        let (host, _) = Fixtures.host(pluginsDirectory: plugins)
        defer { host.shutdown() }
        let p = try host.loadPlugin(path: root + "/outside/libembedd-fixture.so")
        #expect(p.path == root + "/outside/libembedd-fixture.so")
    }

    @Test func discoveryRefusesSymlinksThatLeaveThePluginsDirectory() throws {
        let (root, plugins) = try Self.layout()
        let (host, _) = Fixtures.host(pluginsDirectory: plugins)
        defer { host.shutdown() }
        let results = host.discoverPlugins()
        let refused = results.compactMap { r -> PluginError? in if case .failure(let e) = r { e } else { nil } }
        #expect(refused.count == 2 && refused.allSatisfy { $0.kind == .outsideDirectory }, "\(refused)")
        #expect(refused.allSatisfy { $0.message.contains(root + "/outside/libembedd-fixture.so") })
        #expect(host.plugins().allSatisfy { $0.path.hasPrefix(plugins + "/") }, "\(host.plugins().map(\.path))")
    }

    // MARK: Model directories (resolved by the daemon through ConfinedPath)

    @Test func modelDirectoriesResolveInsideModelsDir() throws {
        let root = Fixtures.temporaryDirectory("models")
        let models = root + "/models"
        for dir in [models + "/a", models + "/b/c", root + "/outside"] { try FileSystem.makeDirectories(dir, permissions: 0o755) }
        try Self.symlink("a", at: models + "/alias")
        try Self.symlink(root + "/outside", at: models + "/escape")
        func resolve(_ p: String) throws(PluginError) -> String {
            try ConfinedPath.resolve(p, in: models, setting: "models_dir", what: "model directory")
        }
        #expect(try resolve("a") == models + "/a")
        #expect(try resolve("b/c/../../a") == models + "/a")
        #expect(try resolve("alias") == models + "/a", "a symlink inside that stays inside is followed")
        #expect(try resolve("not-yet") == models + "/not-yet", "a missing directory inside is left to the plugin to report")
        #expect(try resolve(".") == models)
        for bad in ["..", "../outside", "a/../../outside", "escape", "escape/sub", "b/../../../../etc", "missing/../../outside"] {
            let error = #expect(throws: PluginError.self, "\(bad)") { try resolve(bad) }
            #expect(error?.kind == .outsideDirectory)
            #expect(error?.message.contains("model directory '\(bad)'") == true && error?.message.contains("models_dir \(models)") == true,
                    "\(error?.message ?? "")")
        }
        // A models_dir that is itself reached through a symlink is compared by its real path.
        try Self.symlink(models, at: root + "/models-link")
        #expect(try ConfinedPath.resolve("a", in: root + "/models-link", setting: "models_dir", what: "model directory") == models + "/a")
    }

    @Test func canonicalPathsOfMissingTails() {
        #expect(ConfinedPath.canonical("/") == "/")
        #expect(ConfinedPath.canonical("/no-such-dir-embedd/x/../y") == "/no-such-dir-embedd/y")
        #expect(ConfinedPath.canonical("/tmp/./no-such-dir-embedd/..") == "/tmp")
        #expect(ConfinedPath.isInside("/a/b", "/a") && ConfinedPath.isInside("/a", "/a") && !ConfinedPath.isInside("/ab", "/a"))
        #expect(ConfinedPath.isInside("/anything", "/"))
    }
}
