import EmbedClient
import EmbedWire
import Foundation
import Testing

/// Issue 25 item 6, honest truncation, through the real daemon and the real text plugin
/// (ABI 1.1 token counts): every cut is reported, `truncation: off` per call or `truncate:
/// false` per model refuses an over-long text by name and length, and a 1.0 plugin that counts
/// nothing cannot silently pass a refusal.
@Suite(.serialized) struct TruncationTests {
    static let miniLMMissing = ServingFixtures.skipReason([ServingFixtures.miniLM])
    /// About 400 WordPiece tokens: longer than MiniLM's 256-token window.
    static let long = Array(repeating: "the quick brown fox jumps over the lazy dog", count: 45).joined(separator: " ")

    static func daemon() throws -> RestartableDaemon {
        let dir = ServingFixtures.modelDir(ServingFixtures.miniLM)
        return try RestartableDaemon(models: ServingFixtures.textModel(ServingFixtures.miniLM, isDefault: true) + """
              - name: strict
                plugin: \(ServingFixtures.textPlugin)
                model_dir: \(dir)
                truncate: false

            """ + TestDaemon.fixtureModel())
    }

    @Test(.enabled(if: miniLMMissing == nil, "all-MiniLM-L6-v2 absent: run tools/fetch-models"))
    func cutsAreReportedAndRefusedOnRequest() throws {
        let d = try Self.daemon()
        let c = try d.client()

        // Default: the long text is cut, and the response says so with its real length.
        let r = try c.embed(model: ServingFixtures.miniLM, inputs: [.text("a short sentence"), .text(Self.long)])
        #expect(r.usage.count == 2)
        #expect(r.usage[0].truncated == false && r.usage[0].tokens == r.usage[0].used && r.usage[0].tokens == 5)
        #expect(r.usage[1].truncated && r.usage[1].used == 256 && r.usage[1].tokens > 400, "\(r.usage)")
        #expect(r.totalTokens == UInt64(r.usage[0].tokens + r.usage[1].tokens))

        // Per call: truncation off refuses the long one, naming it and its length.
        let (code, message) = callStatus { _ = try c.embed(model: ServingFixtures.miniLM, inputs: [.text("short"), .text(Self.long)], truncation: .off) }
        #expect(code == .invalidArgument)
        #expect(message.contains("input 1: input has \(r.usage[1].tokens) tokens") && message.contains("takes 256"), "\(message)")
        // …and a text that fits passes with truncation off.
        #expect(try c.embed(model: ServingFixtures.miniLM, inputs: [.text("short")], truncation: .off).vectors.count == 1)

        // Per model: `truncate: false` refuses by default; the call can still ask for the cut.
        #expect(callStatus { _ = try c.embed(model: "strict", inputs: [.text(Self.long)]) }.0 == .invalidArgument)
        let allowed = try c.embed(model: "strict", inputs: [.text(Self.long)], truncation: .on)
        #expect(allowed.usage.first?.truncated == true)
        // The cut vector is the same one the default model gives (same weights, same window).
        #expect(allowed.vectors[0].values == r.vectors[1].values)

        // ListModels shows the window and the setting.
        let models = try c.call(.listModels, ListModelsRequest(), as: ListModelsResponse.self).models
        let strict = try #require(models.first { $0.name == "strict" })
        let lenient = try #require(models.first { $0.name == ServingFixtures.miniLM })
        #expect(strict.maxTokens == 256 && !strict.truncate && lenient.truncate)

        // A 1.0 plugin counts nothing: no usage, and a refusal cannot be honoured silently.
        let fx = try c.embed(model: "fx", inputs: [.text("hello")])
        #expect(fx.usage.isEmpty && fx.totalTokens == 0)
        let (fxCode, fxMessage) = callStatus { _ = try c.embed(model: "fx", inputs: [.text("hello")], truncation: .off) }
        #expect(fxCode == .invalidArgument && fxMessage.contains("does not count tokens"), "\(fxMessage)")
    }

    @Test(.enabled(if: miniLMMissing == nil, "all-MiniLM-L6-v2 absent: run tools/fetch-models"))
    func upsertAndSearchReportCutsAndRefuseItemByItem() throws {
        let d = try Self.daemon()
        let c = try d.client()
        _ = try c.createCollection("docs", model: ServingFixtures.miniLM)

        let stored = try c.upsert("docs", [.text("a", "short text"), .text("b", Self.long)])
        #expect(stored.stored == 2 && stored.truncated == 1)
        #expect(stored.results[0].usage?.truncated == false && stored.results[1].usage?.truncated == true)

        // Truncation off: the long item fails alone, naming its length; the other is stored.
        let strict = try c.upsert("docs", [.text("c", "another short text"), .text("d", Self.long)], truncation: .off)
        #expect(strict.stored == 1 && strict.failed == 1 && strict.truncated == 0)
        #expect(strict.results[1].outcome == .failed && strict.results[1].error.contains("tokens; model"), "\(strict.results[1].error)")
        #expect(try c.get("docs", key: "d") == nil)

        let found = try c.search("docs", [.text(Self.long)], k: 1)
        #expect(found.results[0].usage?.truncated == true && found.results[0].hits.first?.key == "b")
        #expect(callStatus { _ = try c.search("docs", [.text(Self.long)], k: 1, truncation: .off) }.0 == .invalidArgument)
    }

    @Test(.enabled(if: miniLMMissing == nil, "all-MiniLM-L6-v2 absent: run tools/fetch-models"))
    func embedctlWarnsOnceAndRefusesOnRequest() throws {
        let d = try Self.daemon()
        let cut = try d.ctl(["embed", "--format", "json", "short", Self.long, "also short"])
        #expect(cut.status == 0, "\(cut.stderr)")
        #expect(cut.stderr.components(separatedBy: "warning").count == 2, "one warning per call: \(cut.stderr)")
        #expect(cut.stderr.contains("1 of 3 inputs was cut to the model's 256-token window: input 1 ("), "\(cut.stderr)")
        let json = try #require(try jsonOutput(cut) as? [String: Any])
        let listed = try #require(json["truncated"] as? [[String: Any]])
        #expect(listed.count == 1 && listed[0]["index"] as? Int == 1 && listed[0]["used"] as? Int == 256)
        #expect((json["vectors"] as? [Any])?.count == 3)

        let quiet = try d.ctl(["embed", "short"])
        #expect(quiet.status == 0 && !quiet.stderr.contains("warning"), "\(quiet.stderr)")

        let refused = try d.ctl(["embed", "--no-truncate", "short", Self.long])
        #expect(refused.status == 1 && refused.stderr.contains("INVALID_ARGUMENT") && refused.stderr.contains("input 1: input has"),
                "\(refused.stderr)")
        let forced = try d.ctl(["embed", "--model", "strict", "--truncate", Self.long])
        #expect(forced.status == 0 && forced.stderr.contains("was cut"), "\(forced.stderr)")

        let models = try d.ctl(["models"])
        #expect(models.stdout.contains("MAX_TOKENS") && models.stdout.contains("256 refuse"), "\(models.stdout)")
        let help = try d.ctl(["embed", "--help"])
        #expect(help.stdout.contains("--no-truncate") && help.stdout.contains("long_input: chunk_mean"))

        _ = try d.client().createCollection("docs", model: ServingFixtures.miniLM)
        let add = try d.ctl(["add", "docs", "--format", "json", "--key", "long", Self.long])
        #expect(add.status == 0 && add.stderr.contains("1 stored text was cut"), "\(add.stderr)")
        #expect(((try jsonOutput(add) as? [String: Any])?["truncated"] as? [[String: Any]])?.first?["key"] as? String == "long")
        let strictAdd = try d.ctl(["add", "docs", "--no-truncate", "--key", "long2", Self.long])
        #expect(strictAdd.status == 1 && strictAdd.stdout.contains("tokens; model"), "\(strictAdd.stdout)")
    }
}
