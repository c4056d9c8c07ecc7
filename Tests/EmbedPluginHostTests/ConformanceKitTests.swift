import EmbedPluginCheck
import EmbedSys
import Testing

@Suite struct ConformanceKitTests {
    @Test func theCFixturePassesEveryCheck() {
        let report = ConformanceKit.run(pluginPath: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory(), options: [:])
        #expect(report.passed, "\(report.renderText())")
        let names = report.checks.map(\.name)
        for required in ["descriptor", "load model", "description", "determinism", "batch invariance", "concurrency",
                         "bad input: empty text", "bad input: truncated media", "bad input: garbage media", "cancellation"] {
            #expect(names.contains(required), "missing check \(required)")
        }
        #expect(names.contains { $0.hasPrefix("bad input: wrong input kind") })
        #expect(names.contains { $0.hasPrefix("bad input: over-limit input") })
        #expect(report.renderJSON().hasPrefix("{\"plugin\":"))
    }

    @Test func aNonConcurrentModelSkipsOnlyTheConcurrencyCheck() {
        let report = ConformanceKit.run(pluginPath: Fixtures.fixturePlugin, modelDirectory: Fixtures.modelDirectory(),
                                        options: ["concurrent": "0"])
        #expect(report.passed)
        #expect(report.checks.first { $0.name == "concurrency" }?.passed == nil)
    }

    @Test func aPluginThatCannotLoadItsModelFails() {
        let report = ConformanceKit.run(pluginPath: Fixtures.fixturePlugin, modelDirectory: "/no/such/dir", options: [:])
        #expect(!report.passed)
        #expect(report.renderText().contains("FAIL  load model"))
    }

    @Test func aPluginFromAnotherABIFailsTheDescriptorCheck() throws {
        let so = try Fixtures.compileVariant(["FIXTURE_ABI_MAJOR=2"], name: "abi2")
        let report = ConformanceKit.run(pluginPath: so, modelDirectory: nil, options: [:])
        #expect(!report.passed)
        #expect(report.checks.first?.detail.contains("ABI 2.0") == true)
    }

    @Test func aPluginThatBreaksBatchInvarianceOrIgnoresCancellationIsCaught() throws {
        // A variant that perturbs vectors by batch position and never polls the cancel flag.
        let so = try Fixtures.compileVariant(["FIXTURE_BREAK_CONTRACT=1"], name: "broken")
        let report = ConformanceKit.run(pluginPath: so, modelDirectory: Fixtures.modelDirectory(), options: [:])
        #expect(!report.passed)
        #expect(report.checks.first { $0.name == "batch invariance" }?.passed == false)
        #expect(report.checks.first { $0.name == "cancellation" }?.passed == false)
        #expect(report.checks.first { $0.name == "bad input: empty text" }?.passed == false)
    }
}
