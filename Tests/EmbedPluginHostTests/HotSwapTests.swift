import EmbedSys
import Synchronization
import Testing
@testable import EmbedPluginHost

@Suite(.serialized) struct HotSwapTests {
    @Test func failedReloadKeepsTheOldVersionServing() throws {
        let (host, logs) = Fixtures.host()
        let dir = Fixtures.modelDirectory()
        let spec = ModelSpec(name: "m", plugin: Fixtures.fixturePlugin, modelDirectory: dir, options: ["version": "v1"])
        try host.loadModel(spec)
        var broken = spec
        broken.options["fail_load"] = "1"
        #expect(throws: PluginError.self) { try host.reloadModel(name: "m", spec: broken) }
        var coldStart = spec
        coldStart.options["fail_embed"] = "1"
        let warm = #expect(throws: PluginError.self) { try host.reloadModel(name: "m", spec: coldStart) }
        #expect(warm?.kind == .warmupFailed)
        let batch = try host.embed(model: "m", inputs: [.text("still here")])
        #expect(batch.modelVersion == "v1" && batch.failures[0] == nil)
        #expect(host.events().filter { $0.kind == .swapFailed }.count == 2)
        #expect(logs.contains("keeps serving"))
        host.shutdown()
    }

    @Test func reloadOfAChangedFileLoadsTheNewBuild() throws {
        // Same path, new bytes: dlopen would hand back the cached image, so the host must load a copy.
        let dir = Fixtures.temporaryDirectory("plugins")
        let path = dir + "/libembedd-fixture.so"
        try FileSystem.copyFile(from: try Fixtures.compileVariant(["FIXTURE_VERSION=\"1.0.0\""], name: "a"), to: path)
        let (host, _) = Fixtures.host(pluginsDirectory: dir)
        try host.loadModel(ModelSpec(name: "m", plugin: "fixture", modelDirectory: Fixtures.modelDirectory()))
        #expect(host.model(named: "m")?.plugin.version == "1.0.0")
        try FileSystem.copyFile(from: try Fixtures.compileVariant(["FIXTURE_VERSION=\"2.0.0\""], name: "b"), to: path + ".new")
        try FileSystem.rename(path + ".new", to: path)
        let swapped = try host.reloadModel(name: "m")
        #expect(swapped.plugin.version == "2.0.0")
        host.shutdown()
    }

    /// 8 threads × 1,250 calls while the model is swapped 20 times between builds at two paths.
    @Test func swapUnderLoadFailsNoCallAndReleasesOnlyAfterTheLastCall() throws {
        let (host, _) = Fixtures.host()
        let pluginA = Fixtures.fixturePlugin
        let pluginB = Fixtures.temporaryDirectory("copy") + "/libembedd-fixture-b.so"
        try FileSystem.copyFile(from: pluginA, to: pluginB)
        let dir = Fixtures.modelDirectory()
        @Sendable func spec(_ v: Int) -> ModelSpec {
            ModelSpec(name: "m", plugin: v % 2 == 0 ? pluginA : pluginB, modelDirectory: dir,
                      options: ["version": "v\(v)", "delay_us": "50"])
        }
        try host.loadModel(spec(0))
        let texts = (0..<16).map { "sentence number \($0) about swapping" }

        struct Observation { var text: Int; var version: String; var generation: Int; var completed: Int; var vector: [Float] }
        let observations = Mutex<[Observation]>([])
        let failures = Mutex<[String]>([])
        let running = Atomic<Bool>(true)
        let callsPerThread = 1250
        var threads: [OSThread] = []
        for t in 0..<8 {
            threads.append(try OSThread {
                var local: [Observation] = []
                for i in 0..<callsPerThread {
                    let k = (t * 7 + i) % texts.count
                    do {
                        let b = try host.embed(model: "m", inputs: [.text(texts[k])])
                        if let f = b.failures[0] { failures.withLock { $0.append("\(f)") } }
                        local.append(Observation(text: k, version: b.modelVersion, generation: b.generation,
                                                 completed: b.completedSequence, vector: b.vector(at: 0)))
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
                observations.withLock { $0 += local }
            })
        }
        let swapper = try OSThread {
            for v in 1...20 {
                do { try host.reloadModel(name: "m", spec: spec(v)) } catch { failures.withLock { $0.append("swap: \(error)") } }
                ChildProcess.sleep(seconds: 0.01)
            }
            running.store(false, ordering: .relaxed)
        }
        threads.forEach { $0.join() }
        swapper.join()

        #expect(failures.withLock { $0 }.isEmpty, "no failed call: \(failures.withLock { $0.prefix(3) })")
        let all = observations.withLock { $0 }
        #expect(all.count == 8 * callsPerThread)
        // Every result comes from one of the versions swapped in, and equals that version's vector.
        let reference = Fixtures.host().0
        var expected: [String: [Float]] = [:]
        for o in all {
            #expect(o.version.hasPrefix("v") && Int(o.version.dropFirst()).map { (0...20).contains($0) } == true)
            let key = "\(o.version)|\(o.text)"
            if expected[key] == nil {
                try? reference.unloadModel(name: "ref")
                var s = spec(Int(o.version.dropFirst())!)
                s.name = "ref"
                try reference.loadModel(s)
                expected[key] = try reference.embed(model: "ref", inputs: [.text(texts[o.text])]).vector(at: 0)
            }
            #expect(o.vector == expected[key]!)
        }
        reference.shutdown()
        // An instance is released only after every call it served returned.
        let events = host.events()
        let released = Dictionary(events.filter { $0.kind == .released }.map { ($0.generation, $0.sequence) }, uniquingKeysWith: min)
        #expect(released.count == 20, "all 20 replaced instances were released")
        for o in all {
            if let r = released[o.generation] { #expect(o.completed < r, "generation \(o.generation) released before a call on it returned") }
        }
        #expect(Set(all.map(\.generation)).count > 2, "calls really spread over several generations")
        host.shutdown()
    }

    /// 100 load/swap cycles: resident memory growth stays bounded (docs/plugin-abi.md quotes it).
    ///
    /// Measured in a child process running only the test below: resident memory is the whole
    /// process's, and the suites running beside this one (image models, daemons' clients) move
    /// it by megabytes at any moment.
    @Test func hundredSwapCyclesKeepMemoryBounded() throws {
        let exe = try FileSystem.realPath("/proc/self/exe")
        let output = Fixtures.temporaryDirectory("rss") + "/out.txt"
        let child = try ChildProcess.spawn(exe, arguments: ["--testing-library", "swift-testing",
                                                            "--filter", "HotSwapTests/rssOfHundredSwapCyclesInThisProcess"],
                                           outputPath: output)
        let end = try child.wait()
        let text = String(decoding: (try? FileSystem.readFile(output, limit: 1 << 20)) ?? [], as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.contains("RSS growth") }.map(String.init) ?? ""
        print(line)
        #expect(end == .exited(0) && !line.isEmpty, "the measuring child failed (\(end)):\n\(text.suffix(3000))")
    }

    /// The measurement itself; runs only when named (the test above starts it alone).
    @Test(.enabled(if: CommandLine.arguments.contains { $0.contains("rssOfHundredSwapCyclesInThisProcess") }))
    func rssOfHundredSwapCyclesInThisProcess() throws {
        let (host, _) = Fixtures.host()
        let pluginB = Fixtures.temporaryDirectory("copy") + "/libembedd-fixture-b.so"
        try FileSystem.copyFile(from: Fixtures.fixturePlugin, to: pluginB)
        let dir = Fixtures.modelDirectory()
        func cycle(_ i: Int) throws {
            let spec = ModelSpec(name: "m", plugin: i % 2 == 0 ? Fixtures.fixturePlugin : pluginB, modelDirectory: dir,
                                 options: ["version": "v\(i)", "dim": "256", "log_loads": "0"])
            if host.model(named: "m") == nil { try host.loadModel(spec) } else { try host.reloadModel(name: "m", spec: spec) }
            _ = try host.embed(model: "m", inputs: (0..<32).map { .text("text \($0)") })
        }
        for i in 0..<10 { try cycle(i) }  // warm up allocator and loader caches
        // The process's RSS also moves with the suites running beside this one: a leak grows
        // in every window of 100 swaps, their noise does not, so a later window decides (up to
        // three: the integration suites beside it start daemons and models at any moment).
        var growths: [Int] = []
        var next = 10
        for _ in 0..<3 {
            let before = Fixtures.residentBytes()
            for i in next..<(next + 100) { try cycle(i) }
            next += 100
            growths.append(Fixtures.residentBytes() - before)
            if growths.last! < 4 << 20 { break }
        }
        let growth = growths.min()!
        print("plugin host: RSS growth over 100 load/swap cycles = \(growths.map { "\($0 / 1024) KiB" }.joined(separator: ", then "))")
        #expect(growth < 4 << 20, "RSS grew \(growths) bytes over windows of 100 swaps")
        host.shutdown()
    }
}
