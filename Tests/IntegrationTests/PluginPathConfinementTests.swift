import EmbedClient
import EmbedSys
import EmbedWire
import Foundation
import Testing

/// Issue 17, defect 11, through the real daemon: a relative plugin path or model directory — in
/// the configuration file or in LoadPlugin, ReloadPlugin and LoadModel — that leads outside
/// `plugins_dir` / `models_dir` (by `..` or by a symlink) is refused with INVALID_ARGUMENT naming
/// the path and the directory; absolute paths from the config file and from admins still work.
@Suite(.serialized) struct PluginPathConfinementTests {
    static func status(of body: () throws -> Void) -> (StatusCode?, String) { callStatus(body) }

    @Test func relativePathsCannotLeavePluginsDirOrModelsDir() throws {
        // Beside the daemon's directory (both under /tmp): a plugin copy and a model directory.
        let outside = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-outside.XXXXXX")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        chmod(outside, 0o755)
        try FileManager.default.copyItem(atPath: Products.fixturePlugin, toPath: outside + "/libembedd-fixture.so")
        try FileManager.default.createDirectory(atPath: outside + "/model", withIntermediateDirectories: true)
        // From <daemon dir>/plugins or <daemon dir>/models, "../../" is /tmp.
        let up = "../../" + (outside as NSString).lastPathComponent
        let d = try TestDaemon(models: TestDaemon.fixtureModel() + """
          - name: escaped-dir
            plugin: \(Products.fixturePlugin)
            model_dir: \(up)/model
            options: { dim: "16" }
          - name: escaped-plugin
            plugin: \(up)/libembedd-fixture.so
            model_dir: fixture-model
            options: { dim: "16" }
          - name: absolute
            plugin: \(outside)/libembedd-fixture.so
            model_dir: \(outside)/model
            options: { dim: "16" }

        """)
        defer { d.stop() }
        let plugins = d.directory + "/plugins", models = d.directory + "/models"
        let c = try d.client()

        // The config file: relative entries that escape fail to load, naming the directory;
        // absolute ones (the admin wrote the file) load.
        var listed = try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self).models
        func model(_ name: String) -> EmbedWire.ModelInfo? { listed.first { $0.name == name } }
        #expect(model("fx")?.state == .ready && model("absolute")?.state == .ready, "\(listed)\n\(d.log)")
        #expect(model("escaped-dir")?.state == .failed, "\(String(describing: model("escaped-dir")))")
        #expect(model("escaped-dir")?.error.contains("outside models_dir \(models)") == true, "\(String(describing: model("escaped-dir")?.error))")
        #expect(model("escaped-plugin")?.state == .failed, "\(String(describing: model("escaped-plugin")))")
        #expect(model("escaped-plugin")?.error.contains("outside plugins_dir \(plugins)") == true, "\(String(describing: model("escaped-plugin")?.error))")

        let fxGeneration = model("fx")?.generation
        // Admin calls with relative paths that escape: by "..", and by symlinks inside the directories.
        try FileManager.default.createSymbolicLink(atPath: plugins + "/libembedd-sneaky.so", withDestinationPath: outside + "/libembedd-fixture.so")
        try FileManager.default.createSymbolicLink(atPath: models + "/sneaky", withDestinationPath: outside + "/model")
        let refusals: [(String, () throws -> Void, String)] = [
            ("LoadPlugin ..", { _ = try c.call(.loadPlugin, LoadPluginRequest(path: up + "/libembedd-fixture.so"), as: LoadPluginResponse.self) }, "plugins_dir \(plugins)"),
            ("LoadPlugin symlink", { _ = try c.call(.loadPlugin, LoadPluginRequest(path: "sneaky"), as: LoadPluginResponse.self) }, "plugins_dir \(plugins)"),
            ("LoadModel plugin ..", { _ = try c.call(.loadModel, LoadModelRequest(name: "m1", plugin: up + "/libembedd-fixture.so", modelDir: "fixture-model", options: ["dim": "16"]), as: LoadModelResponse.self) }, "plugins_dir \(plugins)"),
            ("LoadModel model_dir ..", { _ = try c.call(.loadModel, LoadModelRequest(name: "m2", plugin: Products.fixturePlugin, modelDir: up + "/model", options: ["dim": "16"]), as: LoadModelResponse.self) }, "models_dir \(models)"),
            ("LoadModel model_dir symlink", { _ = try c.call(.loadModel, LoadModelRequest(name: "m3", plugin: Products.fixturePlugin, modelDir: "sneaky", options: ["dim": "16"]), as: LoadModelResponse.self) }, "models_dir \(models)"),
            ("ReloadPlugin --path ..", { _ = try c.call(.reloadPlugin, ReloadPluginRequest(plugin: "fixture", path: up + "/libembedd-fixture.so"), as: ReloadPluginResponse.self) }, "plugins_dir \(plugins)"),
        ]
        for (what, call, directory) in refusals {
            let (code, message) = Self.status(of: call)
            #expect(code == .invalidArgument, "\(what): \(String(describing: code)) \(message)")
            #expect(message.contains(directory) && message.contains(outside), "\(what): the refusal names the directory and where the path leads: \(message)")
        }
        listed = try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self).models
        #expect(!listed.contains { ["m1", "m2", "m3"].contains($0.name) }, "\(listed.map(\.name))")
        #expect(model("fx")?.generation == fxGeneration, "a refused ReloadPlugin swapped nothing")

        // Relative paths inside the directories, and absolute paths from an admin, still work.
        try FileManager.default.createDirectory(atPath: plugins + "/sub", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Products.fixturePlugin, toPath: plugins + "/sub/libembedd-fixture.so")
        let inside = Self.status { _ = try c.call(.loadPlugin, LoadPluginRequest(path: "sub/libembedd-fixture.so"), as: LoadPluginResponse.self) }
        #expect(inside.0 == .ok, "\(inside)")
        let absolute = Self.status {
            _ = try c.call(.loadModel, LoadModelRequest(name: "abs", plugin: outside + "/libembedd-fixture.so", modelDir: outside + "/model",
                                                        options: ["dim": "16"]), as: LoadModelResponse.self)
        }
        #expect(absolute.0 == .ok, "\(absolute)")
        let e = try c.call(.embed, EmbedRequest(model: "abs", inputs: [.text("still works")]), as: EmbedResponse.self)
        #expect(e.vectors.count == 1 && e.dim == 16)

        // Only admins name paths at all: uid nobody is refused before any path is looked at.
        let nobody = try d.ctl(["plugins", "load", outside + "/libembedd-fixture.so"], asNobody: true)
        #expect(nobody.status == 1 && nobody.stderr.contains("PERMISSION_DENIED"), "\(nobody.stderr)")
        #expect(d.stop() == 0)
    }
}
