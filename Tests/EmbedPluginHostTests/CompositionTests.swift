import EmbedSys
import Testing
@testable import EmbedPluginHost

/// ABI 1.1 composition (`model_dimension`, `embed_with`) driven by the C fixture plugin's
/// `compose_with` option: a model whose every call is embedded by another loaded model.
@Suite(.serialized) struct CompositionTests {
    @Test func aComposingModelReturnsTheTargetsVectorsAndJoinsItsSpace() throws {
        let (host, _) = Fixtures.host()
        try host.loadModel(ModelSpec(name: "target", plugin: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory(salt: "t"),
                                     options: ["dim": "48", "space": "fixture/target"]))
        let composer = try host.loadModel(ModelSpec(name: "composer", plugin: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory(),
                                                    options: ["compose_with": "target"]))
        #expect(composer.info.dimension == 48 && composer.info.embeddingSpace == "fixture/target")
        let inputs: [EmbedInput] = [.text("a red car"), .text(""), .text("a blue boat")]
        let direct = try host.embed(model: "target", inputs: inputs)
        let composed = try host.embed(model: "composer", inputs: inputs)
        #expect(composed.vectors == direct.vectors)
        // Per-input failures come back through the composing call, input by input.
        #expect(composed.failures[0] == nil && composed.failures[2] == nil)
        #expect(composed.failures[1]?.message == direct.failures[1]?.message)
        host.shutdown()
    }

    @Test func aCallToTheRunningModelItselfIsRefusedNotDeadlocked() throws {
        let (host, _) = Fixtures.host()
        try host.loadModel(ModelSpec(name: "loop", plugin: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory(), options: [:]))
        // Swapped to compose with itself: the warm-up probe must fail fast, naming the loop.
        let refused = #expect(throws: PluginError.self) {
            try host.reloadModel(name: "loop", spec: ModelSpec(name: "loop", plugin: Fixtures.fixturePlugin,
                                                               modelDirectory: Fixtures.modelDirectory(), options: ["compose_with": "loop"]))
        }
        #expect(refused?.message.contains("wait for itself") == true)
        host.shutdown()
    }

    @Test func aTargetSwappedToAnotherSpaceFailsTheComposedCallByName() throws {
        let (host, _) = Fixtures.host()
        let spec = ModelSpec(name: "target", plugin: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory(),
                             options: ["dim": "32", "space": "fixture/a"])
        try host.loadModel(spec)
        try host.loadModel(ModelSpec(name: "composer", plugin: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory(),
                                     options: ["compose_with": "target"]))
        // The same weights again: the composed calls go on.
        try host.reloadModel(name: "target", spec: spec)
        #expect(try host.embed(model: "composer", inputs: [.text("still fine")]).failures[0] == nil)
        // Other weights of the same dimension: the composer's declared space would be a lie.
        var other = spec
        other.options["space"] = "fixture/b"
        try host.reloadModel(name: "target", spec: other)
        let failed = #expect(throws: PluginError.self) { try host.embed(model: "composer", inputs: [.text("now refused")]) }
        #expect(failed?.message.contains("fixture/b") == true)
        // Another dimension: refused before a float is written into the composer's buffer.
        var wider = spec
        wider.options["dim"] = "64"
        try host.reloadModel(name: "target", spec: wider)
        let overrun = #expect(throws: PluginError.self) { try host.embed(model: "composer", inputs: [.text("would overrun")]) }
        #expect(overrun?.message.contains("dimension 64") == true)
        host.shutdown()
    }

    @Test func composingWithAModelThatIsNotLoadedFailsTheLoad() throws {
        let (host, _) = Fixtures.host()
        let error = #expect(throws: PluginError.self) {
            try host.loadModel(ModelSpec(name: "composer", plugin: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory(),
                                         options: ["compose_with": "absent"]))
        }
        #expect(error?.message.contains("'absent' is not loaded") == true)
        host.shutdown()
    }

    @Test func anOpenFileInputReachesThePluginAsADescriptorAndStaysOpen() throws {
        let dir = Fixtures.temporaryDirectory("openfile")
        let fd = try FileDescriptor.open(dir + "/f.bin", [.readWrite, .create, .truncate])
        try fd.writeAll(Array("FXTR".utf8) + [5, 0, 0, 0] + Array("hello".utf8))
        let file = try OpenFile(duplicating: fd, size: 13)
        try fd.close()
        #expect(file.descriptor.rawValue != fd.rawValue)
        let (host, _) = Fixtures.host()
        try host.loadModel(ModelSpec(name: "m", plugin: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory(), options: [:]))
        // The 1.0 fixture does not take open files: the host refuses the input alone, by kind.
        let batch = try host.embed(model: "m", inputs: [.file(file, mimeType: "application/x-embedd-fixture"), .text("ok")])
        #expect(batch.failures[0]?.message.contains("open file") == true && batch.failures[1] == nil)
        var buffer = [UInt8](repeating: 0, count: 4)
        let n = try buffer.withUnsafeMutableBytes { try file.descriptor.read(fromAbsoluteOffset: 0, into: $0) }
        #expect(n == 4 && buffer == Array("FXTR".utf8))
        host.shutdown()
    }
}
