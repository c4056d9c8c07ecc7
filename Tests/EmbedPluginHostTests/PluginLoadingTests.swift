import EmbedSys
import Synchronization
import Testing
@testable import EmbedPluginHost

@Suite struct PluginLoadingTests {
    @Test func loadsTheCFixtureAndEmbeds() throws {
        let (host, logs) = Fixtures.host()
        let dir = Fixtures.modelDirectory(salt: "s1")
        let summary = try host.loadModel(ModelSpec(name: "fx", plugin: Fixtures.fixturePlugin, modelDirectory: dir,
                                                   options: ["dim": "48", "version": "v7"]))
        #expect(summary.info.dimension == 48)
        #expect(summary.info.version == "v7")
        #expect(summary.info.embeddingSpace == "fixture/trigram")
        #expect(summary.info.modalities == [.text, .image])
        #expect(summary.info.inputKinds == [.text, .encoded, .rgb8])
        #expect(summary.plugin.name == "fixture" && summary.plugin.abiVersion == "1.0")
        #expect(logs.contains("plugin fixture: fixture: loaded"), "the plugin's log callback reaches the host")

        let batch = try host.embed(model: "fx", inputs: [.text("hello world"), .text("hello world!"), .text("zzz qqq")])
        #expect(batch.failures.allSatisfy { $0 == nil })
        let a = batch.vector(at: 0), b = batch.vector(at: 1), c = batch.vector(at: 2)
        #expect(abs(a.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5, "unit length")
        let ab = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }, ac = zip(a, c).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(ab > ac, "similar texts are closer than different ones")
        let again = try host.embed(model: "fx", inputs: [.text("hello world")])
        #expect(again.vector(at: 0) == a, "deterministic")
        host.shutdown()
    }

    /// A model that declares unit vectors but returns others is a broken plugin: its rows are
    /// failed (INTERNAL, naming the norm), so its warm-up probe fails and it is not loaded.
    @Test func aModelThatBreaksItsDeclaredNormIsRefused() throws {
        let so = try Fixtures.compileVariant(["FIXTURE_UNNORMALISED=1"], name: "unnormalised")
        let (host, _) = Fixtures.host()
        #expect {
            _ = try host.loadModel(ModelSpec(name: "fx", plugin: so, modelDirectory: Fixtures.modelDirectory(), options: [:]))
        } throws: { error in
            "\(error)".contains("warm-up") && "\(error)".contains("declares unit vectors")
        }
        host.shutdown()
    }

    @Test func missingFileIsRefusedWithItsPath() {
        let (host, _) = Fixtures.host()
        let error = #expect(throws: PluginError.self) {
            try host.loadPlugin(path: "/nonexistent/dir/libnothing.so")
        }
        #expect(error?.kind == .fileNotFound)
        #expect(error?.message.contains("/nonexistent/dir/libnothing.so") == true)
    }

    @Test func unknownPluginNameListsWhatWasSearched() throws {
        let dir = Fixtures.temporaryDirectory("plugins")
        let (host, _) = Fixtures.host(pluginsDirectory: dir)
        let error = #expect(throws: PluginError.self) {
            try host.loadModel(ModelSpec(name: "m", plugin: "text", modelDirectory: dir))
        }
        #expect(error?.kind == .unknownPlugin)
        #expect(error?.message.contains("libembedd-text.so") == true)
    }

    @Test func pluginNamesResolveInThePluginsDirectory() throws {
        let dir = Fixtures.temporaryDirectory("plugins")
        try FileSystem.copyFile(from: Fixtures.fixturePlugin, to: dir + "/libembedd-fixture.so")
        let (host, _) = Fixtures.host(pluginsDirectory: dir)
        let found = host.discoverPlugins()
        #expect(found.count == 1)
        #expect((try? found[0].get())?.name == "fixture")
        try host.loadModel(ModelSpec(name: "m", plugin: "fixture", modelDirectory: Fixtures.modelDirectory()))
        #expect(host.models().map(\.name) == ["m"])
        host.shutdown()
    }

    @Test func notAnELFFileIsRefused() throws {
        let path = Fixtures.temporaryDirectory("garbage") + "/garbage.so"
        let fd = try FileDescriptor.open(path, [.writeOnly, .create])
        try fd.writeAll(Array("this is not a shared object".utf8))
        try fd.close()
        let (host, _) = Fixtures.host()
        let error = #expect(throws: PluginError.self) { try host.loadPlugin(path: path) }
        #expect(error?.kind == .notLoadable)
        #expect(error?.message.contains(path) == true)
    }

    @Test func missingEntrySymbolIsRefused() throws {
        let so = try Fixtures.compileVariant(["FIXTURE_ENTRY_NAME=some_other_name"], name: "noentry")
        let (host, _) = Fixtures.host()
        let error = #expect(throws: PluginError.self) { try host.loadPlugin(path: so) }
        #expect(error?.kind == .missingEntrySymbol)
        #expect(error?.message.contains("does not export the entry symbol 'embedd_plugin_entry'") == true)
    }

    @Test(arguments: [(2, 0), (0, 9), (1, 2)])
    func incompatibleABIVersionIsRefusedNamingBothVersions(major: Int, minor: Int) throws {
        let so = try Fixtures.compileVariant(["FIXTURE_ABI_MAJOR=\(major)", "FIXTURE_ABI_MINOR=\(minor)"], name: "abi\(major)\(minor)")
        let (host, _) = Fixtures.host()
        let error = #expect(throws: PluginError.self) { try host.loadPlugin(path: so) }
        #expect(error?.kind == .abiMismatch)
        #expect(error?.message.contains("built for embedd plugin ABI \(major).\(minor)") == true)
        #expect(error?.message.contains("implements ABI 1.1") == true)
    }

    @Test func failingModelLoadIsRefusedWithThePluginsMessage() throws {
        let (host, _) = Fixtures.host()
        let dir = Fixtures.modelDirectory()
        let error = #expect(throws: PluginError.self) {
            try host.loadModel(ModelSpec(name: "m", plugin: Fixtures.fixturePlugin, modelDirectory: dir, options: ["fail_load": "1"]))
        }
        #expect(error?.kind == .modelLoadFailed)
        #expect(error?.message.contains("could not load model 'm' from \(dir)") == true)
        #expect(error?.message.contains("refusing to load") == true)

        let missing = #expect(throws: PluginError.self) {
            try host.loadModel(ModelSpec(name: "m", plugin: Fixtures.fixturePlugin, modelDirectory: "/no/such/model"))
        }
        #expect(missing?.message.contains("'/no/such/model' does not exist") == true)

        let badOption = #expect(throws: PluginError.self) {
            try host.loadModel(ModelSpec(name: "m", plugin: Fixtures.fixturePlugin, modelDirectory: dir, options: ["dim": "zero"]))
        }
        #expect(badOption?.message.contains("bad value 'zero' for option 'dim'") == true)
        #expect(host.models().isEmpty, "nothing half-loaded stays registered")
    }

    @Test func badInputsFailAloneWithReasons() throws {
        let (host, _) = Fixtures.host()
        try host.loadModel(ModelSpec(name: "m", plugin: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory(),
                                     options: ["max_input_bytes": "100"]))
        let batch = try host.embed(model: "m", inputs: [
            .text("fine"), .text(""), .text(String(repeating: "x", count: 101)),
            .pcm(samples: [0, 0.5], sampleRate: 16000), .encoded(bytes: [1, 2, 3], mimeType: "image/png"),
            .encoded(bytes: Array("FXTR".utf8) + [9, 0, 0, 0] + Array("abc".utf8), mimeType: "application/x-embedd-fixture"),
            .rgb8(pixels: [1, 2, 3], width: 2, height: 2), .text("also fine"),
        ])
        #expect(batch.failures[0] == nil && batch.failures[7] == nil)
        #expect(batch.failures[1]?.code == .invalidInput && batch.failures[1]?.message == "text is empty")
        #expect(batch.failures[2]?.code == .tooLarge)
        #expect(batch.failures[3]?.code == .unsupportedInput && batch.failures[3]?.message.contains("float32 PCM") == true)
        #expect(batch.failures[4]?.code == .unsupportedInput && batch.failures[4]?.message.contains("image/png") == true)
        #expect(batch.failures[5]?.code == .invalidInput && batch.failures[5]?.message.contains("truncated") == true)
        #expect(batch.failures[6]?.code == .invalidInput)
        #expect(batch.vector(at: 1).allSatisfy { $0 == 0 }, "failed rows are zero")
        let alone = try host.embed(model: "m", inputs: [.text("also fine")])
        #expect(alone.vector(at: 0) == batch.vector(at: 7), "bad neighbours do not change a good input's vector")
        host.shutdown()
    }

    @Test func cancellationStopsARunningCall() throws {
        let (host, _) = Fixtures.host()
        try host.loadModel(ModelSpec(name: "slow", plugin: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory(),
                                     options: ["delay_us": "20000"]))
        let flag = CancellationFlag()
        let canceller = try OSThread {
            ChildProcess.sleep(seconds: 0.1)
            flag.cancel()
        }
        let error = #expect(throws: PluginError.self) {
            try host.embed(model: "slow", inputs: Array(repeating: .text("x y z"), count: 200), cancel: flag)
        }
        canceller.join()
        #expect(error?.kind == .cancelled)
        #expect(host.model(named: "slow")?.inFlight == 0)
        host.shutdown()
    }

    @Test func nonConcurrentModelsAreSerialisedByTheHost() throws {
        let (host, _) = Fixtures.host()
        try host.loadModel(ModelSpec(name: "serial", plugin: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory(),
                                     options: ["concurrent": "0", "delay_us": "200"]))
        #expect(host.model(named: "serial")?.info.concurrent == false)
        let failures = Atomic<Int>(0)
        var threads: [OSThread] = []
        for _ in 0..<4 {
            threads.append(try OSThread {
                for _ in 0..<25 {
                    do {
                        let b = try host.embed(model: "serial", inputs: [.text("a b c"), .text("d e f")])
                        if b.failures.contains(where: { $0 != nil }) { failures.add(1, ordering: .relaxed) }
                    } catch { failures.add(1, ordering: .relaxed) }
                }
            })
        }
        threads.forEach { $0.join() }
        // The fixture fails any overlapping call on a non-concurrent model, so zero proves serialisation.
        #expect(failures.load(ordering: .relaxed) == 0)
        host.shutdown()
    }

    @Test func unknownModelNamesTheLoadedOnes() throws {
        let (host, _) = Fixtures.host()
        try host.loadModel(ModelSpec(name: "a", plugin: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory()))
        let error = #expect(throws: PluginError.self) { try host.embed(model: "b", inputs: [.text("x")]) }
        #expect(error?.kind == .unknownModel)
        #expect(error?.message == "no model named 'b' is loaded (loaded: a)")
        host.shutdown()
    }
}
