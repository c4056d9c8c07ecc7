import EmbedClient
import EmbedWire
import Foundation
import Testing

/// Issue 26: sentence-transformers prompts through the real daemon. The daemon reads a model
/// folder's `config_sentence_transformers.json` when it loads the model and prepends the named
/// prompt (or the default one) to text inputs; vectors equal sentence-transformers'
/// `encode(prompt_name=…)` (golden file from tools/make-golden-prompts.py), and every embedctl
/// surface (embed/search/add --prompt, collection create --add-prompt/--query-prompt, describe,
/// models, completion) is exercised with the fixture plugin, whose vector of "query: x" is what
/// `--prompt query` on "x" must give.
@Suite(.serialized) struct PromptTests {
    static let miniLMMissing = ServingFixtures.skipReason([ServingFixtures.miniLM])
    static let fixtures = Products.repoRoot + "/Tests/Fixtures/text/prompts"
    static let prompts = #"{"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": "query"}"#

    static func ok(_ r: RunResult, _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 0, "\(what) exit \(r.status): \(r.stderr) \(r.stdout.prefix(500))", sourceLocation: sourceLocation)
    }

    /// `embedctl embed --format json`'s vectors.
    static func vectors(_ r: RunResult) throws -> [[Double]] {
        let obj = try #require(try jsonOutput(r) as? [String: Any])
        return try #require(obj["vectors"] as? [[Double]])
    }

    /// A fixture model served from folder `models/DIR` of the daemon (dim 16).
    static func fixtureModel(_ name: String, dir: String) -> String {
        """
          - name: \(name)
            plugin: \(Products.fixturePlugin)
            model_dir: \(dir)
            options: { dim: "16" }

        """
    }

    @Test func embedctlSurfaces() throws {
        let d = try RestartableDaemon(models: Self.fixtureModel("fxp", dir: "fxp") + Self.fixtureModel("plain", dir: "plain"), start: false)
        for dir in ["fxp", "plain"] { try FileManager.default.createDirectory(atPath: d.directory + "/models/" + dir, withIntermediateDirectories: true) }
        let promptFile = d.directory + "/models/fxp/config_sentence_transformers.json"
        try Self.prompts.write(toFile: promptFile, atomically: true, encoding: .utf8)
        try d.start()
        defer { d.stop() }

        // models: the names (default starred) in the table, names and texts in JSON.
        let table = try d.ctl(["models"])
        Self.ok(table)
        #expect(table.stdout.contains("PROMPTS") && table.stdout.contains("query*,passage"), "\(table.stdout)")
        let models = try #require(try jsonOutput(try d.ctl(["models", "--format", "json"])) as? [[String: Any]])
        let fxp = try #require(models.first { $0["name"] as? String == "fxp" })
        #expect(fxp["prompts"] as? [String: String] == ["query": "query: ", "passage": "passage: "])
        #expect(fxp["default_prompt"] as? String == "query")
        #expect(models.first { $0["name"] as? String == "plain" }?["default_prompt"] is NSNull)

        // embed --prompt NAME is the text with the prompt prepended; no --prompt is the default; none is none.
        let embed = { (args: [String]) throws -> [[Double]] in
            let r = try d.ctl(["embed", "--model", "fxp", "--format", "json"] + args)
            Self.ok(r, args.joined(separator: " "))
            return try Self.vectors(r)
        }
        #expect(try embed(["--prompt", "passage", "a cat"]) == embed(["--prompt", "none", "passage: a cat"]))
        #expect(try embed(["a cat"]) == embed(["--prompt", "none", "query: a cat"]))
        #expect(try embed(["--prompt", "query", "a cat"]) == embed(["a cat"]))
        #expect(try embed(["--prompt", "none", "a cat"]) != embed(["a cat"]))
        // A text file gets it too (sent as text).
        let note = d.directory + "/note.txt"
        try "from a file".write(toFile: note, atomically: true, encoding: .utf8)
        #expect(try embed(["--prompt", "passage", "--file", note]) == embed(["--prompt", "none", "passage: from a file"]))

        // Unknown names and models without prompts: INVALID_ARGUMENT naming what there is.
        let bad = try d.ctl(["embed", "--model", "fxp", "--prompt", "qurey", "x"])
        #expect(bad.status == 1 && bad.stderr.contains("INVALID_ARGUMENT") && bad.stderr.contains("its prompts: query, passage"), "\(bad.stderr)")
        let none = try d.ctl(["embed", "--model", "plain", "--prompt", "query", "x"])
        #expect(none.status == 1 && none.stderr.contains("model 'plain' has no prompts"), "\(none.stderr)")

        // Collections: --add-prompt for add, --query-prompt for search, shown by describe.
        Self.ok(try d.ctl(["collection", "create", "e5", "--model", "fxp", "--add-prompt", "passage", "--query-prompt", "query"]))
        let described = try d.ctl(["collection", "describe", "e5"])
        #expect(described.stdout.contains("add passage, search query"), "\(described.stdout)")
        let info = try #require(try jsonOutput(try d.ctl(["collection", "describe", "e5", "--format", "json"])) as? [String: Any])
        #expect(info["add_prompt"] as? String == "passage" && info["query_prompt"] as? String == "query")
        Self.ok(try d.ctl(["add", "e5", "--key", "cat", "the cat sat on the mat"]))
        Self.ok(try d.ctl(["add", "e5", "--key", "stocks", "stock markets fell"]))
        Self.ok(try d.ctl(["add", "e5", "--key", "raw", "--prompt", "none", "the cat sat on the mat"]))
        let stored = { (key: String) throws -> [Double] in
            let obj = try #require(try jsonOutput(try d.ctl(["get", "e5", key, "--format", "json"])) as? [String: Any])
            return try #require(obj["vector"] as? [Double])
        }
        #expect(try stored("cat") == embed(["--prompt", "none", "passage: the cat sat on the mat"])[0])
        #expect(try stored("raw") == embed(["--prompt", "none", "the cat sat on the mat"])[0])
        let scores = { (args: [String]) throws -> [String] in
            let r = try d.ctl(["search", "e5", "--format", "json", "-k", "3"] + args)
            Self.ok(r)
            let obj = try #require(try jsonOutput(r) as? [String: Any])
            let hits = try #require((obj["results"] as? [[[String: Any]]])?.first)
            return hits.map { "\($0["key"]!) \($0["score"]!)" }
        }
        func vectorJSON(_ v: [Double]) -> String { "[" + v.map { "\(Float($0))" }.joined(separator: ",") + "]" }
        let queryVector = try embed(["--prompt", "none", "query: cat on a mat"])[0]
        #expect(try scores(["cat on a mat"]) == scores(["--vector-json", vectorJSON(queryVector)]))
        let passageVector = try embed(["--prompt", "none", "passage: cat on a mat"])[0]
        #expect(try scores(["--prompt", "passage", "cat on a mat"]) == scores(["--vector-json", vectorJSON(passageVector)]))
        let create = try d.ctl(["collection", "create", "bad", "--model", "fxp", "--query-prompt", "q"])
        #expect(create.status == 1 && create.stderr.contains("query_prompt: model 'fxp' has no prompt named 'q'"), "\(create.stderr)")

        // The binding file keeps the prompts across a restart.
        d.stop()
        try d.start()
        #expect(try d.ctl(["collection", "describe", "e5"]).stdout.contains("add passage, search query"))

        // A hot swap re-reads the folder: a prompt the collection names is gone → FAILED_PRECONDITION.
        try #"{"prompts": {"query": "Represent this sentence: "}}"#.write(toFile: promptFile, atomically: true, encoding: .utf8)
        let reload = try d.ctl(["plugins", "reload", "fixture", "--model", "fxp"])
        Self.ok(reload)
        let gone = try d.ctl(["add", "e5", "--key", "late", "hello"])
        #expect(gone.status != 0 && (gone.stdout + gone.stderr).contains("FAILED_PRECONDITION") && (gone.stdout + gone.stderr).contains("add_prompt 'passage'"),
                "\(gone.stdout) \(gone.stderr)")
        #expect(try embed(["--prompt", "query", "hi"]) == embed(["--prompt", "none", "Represent this sentence: hi"]))

        // Completion offers the loaded models' prompt names (and none).
        let names = try d.ctl(["__complete", "prompts"])
        #expect(names.status == 0 && names.stdout == "query\nnone\n", "\(names.stdout)")
        for command in [["embed"], ["search"], ["add"], ["collection", "create"]] {
            let help = try d.ctl(command + ["--help"])
            #expect(help.stdout.contains("--prompt") || help.stdout.contains("--add-prompt"), "\(command) --help")
        }
    }

    /// The golden cases of tools/make-golden-prompts.py, through the daemon and the real text
    /// plugin (fp32): cosine ≥ 0.99999 to sentence-transformers and the same token counts.
    @Test(.enabled(if: miniLMMissing == nil, "all-MiniLM-L6-v2 absent: run tools/fetch-models"))
    func vectorsEqualSentenceTransformers() throws {
        let d = try RestartableDaemon(models: """
              - name: minilm
                plugin: \(ServingFixtures.textPlugin)
                model_dir: minilm-prompts
                options: { precision: fp32 }

            """, start: false)
        let folder = d.directory + "/models/minilm-prompts"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let source = ServingFixtures.modelDir(ServingFixtures.miniLM)
        for name in try FileManager.default.contentsOfDirectory(atPath: source) where name != "config_sentence_transformers.json" {
            try FileManager.default.createSymbolicLink(atPath: folder + "/" + name, withDestinationPath: source + "/" + name)
        }
        try FileManager.default.copyItem(atPath: Self.fixtures + "/config_sentence_transformers.json",
                                         toPath: folder + "/config_sentence_transformers.json")
        try d.start()
        defer { d.stop() }

        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/golden.json"))) as? [String: Any])
        let cases = try #require(doc["cases"] as? [[String: Any]])
        let raw = try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/golden.f32"))
        let dim = 384
        try #require(raw.count == cases.count * dim * 4)
        let golden: [Float] = raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let c = try d.client()
        var worst = 1.0
        for (i, k) in cases.enumerated() {
            let text = try #require(k["text"] as? String)
            let prompt = k["prompt"] as? String ?? ""  // null: the default prompt
            let r = try c.embed(model: "minilm", inputs: [.text(text)], prompt: prompt)
            let v = r.vectors[0].values
            let g = Array(golden[i * dim ..< (i + 1) * dim])
            let dot = zip(v, g).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let cosine = dot / (v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() * g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
            worst = min(worst, cosine)
            #expect(cosine >= 0.99999, "case \(i) (prompt \(prompt.isEmpty ? "default" : prompt)): cosine \(cosine)")
            #expect(r.usage.first?.tokens == (k["tokens"] as? NSNumber)?.uint32Value, "case \(i): tokens \(r.usage)")
        }
        print("prompts golden: \(cases.count) cases, worst cosine \(worst)")
    }
}
