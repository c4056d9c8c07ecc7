import EmbedPluginCheck
import EmbedPluginHost
import EmbedSys
import PluginTestSupport
import Testing

/// The real libembedd-text.so (built next to this test binary) driven through the plugin host.
enum TextPluginFixtures {
    static var plugin: String { PluginTestSupport.plugin("libembedd-text.so") }

    /// `$EMBEDD_MODELS_DIR`, else `<repo>/models` (tools/fetch-models fills it).
    static let modelsDir = PluginTestSupport.modelsDir

    static func model(_ name: String) throws -> String {
        let f = modelsDir + "/" + name
        guard FileSystem.isRegularFile(f + "/model.safetensors") else {
            throw PluginError(.modelLoadFailed, "model \(name) not found in \(modelsDir): run tools/fetch-models (or set EMBEDD_MODELS_DIR)")
        }
        return f
    }

    static func load(_ folder: String, options: [String: String] = [:]) throws -> (PluginHost, LoadedModel) {
        try PluginTestSupport.load(plugin: plugin, folder: folder, name: "t", options: options)
    }
}

@Suite(.serialized) struct TextPluginTests {
    @Test func exportsOnlyTheEntrySymbol() throws {
        let lib = try DynamicLibrary.open(TextPluginFixtures.plugin)
        defer { lib.leak() }  // Swift images are never unloaded
        #expect(lib.symbol(named: "embedd_plugin_entry") != nil)
        // Swift internals stay hidden (the version script), so two plugin versions can coexist.
        #expect(lib.symbol(named: "$s7EmbedNN12TextEmbedderC6folderSSvg") == nil)
        #expect(lib.symbol(named: "$s7EmbedNN11VectorMathO9layerNorm_4rows5width5gamma4beta3epsySpySfG_S2iSPySfGAKSftFZ") == nil)
    }

    @Test(arguments: [("all-MiniLM-L6-v2", "fp32"), ("all-MiniLM-L6-v2", "bf16"), ("all-MiniLM-L6-v2", "auto"),
                      ("all-mpnet-base-v2", "fp32")])
    func passesConformanceKit(model: String, precision: String) throws {
        let folder = try TextPluginFixtures.model(model)
        let report = ConformanceKit.run(pluginPath: TextPluginFixtures.plugin, modelDirectory: folder,
                                        options: ["precision": precision], concurrencyCalls: 20)
        print(report.renderText())
        #expect(report.passed, "\(report.renderText())")
    }

    /// No `precision` option means `auto`: bf16 where the CPU has it natively (then bf16 and fp32
    /// vectors differ, and auto's are bf16's bit for bit), fp32 elsewhere.
    @Test func precisionAutoIsTheDefault() throws {
        let folder = try TextPluginFixtures.model("all-MiniLM-L6-v2")
        let texts: [EmbedInput] = [.text("A short sentence."), .text("Vectors from different models must never be mixed.")]
        var out: [String: [[Float]]] = [:]
        for precision in ["", "auto", "fp32", "bf16"] {
            let (host, m) = try TextPluginFixtures.load(folder, options: precision.isEmpty ? [:] : ["precision": precision])
            defer { m.dispose(); host.shutdown() }
            let r = try m.embed(texts)
            out[precision] = (0..<texts.count).map { r.vector(at: $0) }
        }
        #expect(out[""] == out["auto"])
        let nativeBF16 = out["bf16"] != out["fp32"]
        #expect(out["auto"] == (nativeBF16 ? out["bf16"] : out["fp32"]), "auto picked neither bf16 (native: \(nativeBF16)) nor fp32")
        if let a = out["auto"], let f = out["fp32"] {
            for (x, y) in zip(a, f) {
                let cosine = zip(x, y).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                #expect(cosine > 0.999, "auto vs fp32 cosine \(cosine)")
            }
        }
    }

    @Test func describesTheModel() throws {
        let (host, m) = try TextPluginFixtures.load(try TextPluginFixtures.model("all-MiniLM-L6-v2"))
        defer { m.dispose(); host.shutdown() }
        #expect(m.info.name == "all-MiniLM-L6-v2")
        #expect(m.info.dimension == 384)
        #expect(m.info.normalized)
        #expect(m.info.maxTokens == 256)
        #expect(m.info.embeddingSpace.hasPrefix("sentence-transformers/all-MiniLM-L6-v2@fnv64:"))
    }

    @Test func refusesBadOptions() throws {
        let folder = try TextPluginFixtures.model("all-MiniLM-L6-v2")
        for (options, needle) in [(["colour": "red"], "unknown option 'colour'"), (["precision": "fp8"], "is not auto, fp32 or bf16"),
                                  (["threads": "-1"], "threads"), (["long_input": "split"], "long_input")] {
            #expect { _ = try TextPluginFixtures.load(folder, options: options) } throws: { e in
                "\(e)".contains(needle)
            }
        }
    }

    @Test func longInputPolicies() throws {
        let folder = try TextPluginFixtures.model("all-MiniLM-L6-v2")
        let long = String(repeating: "the quick brown fox jumps over the lazy dog ", count: 100)  // ~900 tokens
        let short = "A short sentence."
        var vectors: [String: [Float]] = [:]
        for policy in ["truncate", "chunk_mean", "reject"] {
            let (host, m) = try TextPluginFixtures.load(folder, options: ["long_input": policy])
            defer { m.dispose(); host.shutdown() }
            let out = try m.embed([.text(short), .text(long)])
            #expect(out.failures[0] == nil)
            if policy == "reject" {
                let f = try #require(out.failures[1])
                #expect(f.code == .tooLarge)
                #expect(f.message.contains("input has 902 tokens; the model takes 256"))
            } else {
                #expect(out.failures[1] == nil)
                vectors[policy] = out.vector(at: 1)
            }
        }
        // Chunk-mean sees the whole text: a different, still unit-length vector.
        let t = try #require(vectors["truncate"]), c = try #require(vectors["chunk_mean"])
        #expect(t != c)
        #expect(abs(c.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
    }

    @Test func malformedModelFolderNamesTheFile() throws {
        let dir = "/tmp/embedd-text-bad-\(Clock.monotonicNanoseconds())"
        try? FileSystem.makeDirectories(dir)
        #expect { _ = try TextPluginFixtures.load(dir) } throws: { e in
            "\(e)".contains("\(dir)/config.json") && "\(e)".contains("missing file")
        }
    }
}

extension TextPluginTests {
    /// More threads than attention heads (16 > 12): the extra shares must idle, not trap.
    @Test func moreThreadsThanHeads() throws {
        let (host, m) = try TextPluginFixtures.load(try TextPluginFixtures.model("all-MiniLM-L6-v2"), options: ["threads": "16"])
        defer { m.dispose(); host.shutdown() }
        // ~40 tokens each: 48 × 40² query·key pairs, above the threshold for splitting attention.
        let texts = (0..<48).map { String(repeating: "sentence number \($0) is long enough to split. ", count: 4) }
        let out = try m.embed(texts.map { .text($0) })
        #expect(out.failures.allSatisfy { $0 == nil })
    }
}
