import EmbedPluginCheck
import EmbedPluginHost
import EmbedSys
import Foundation
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
        // Named by content, not by the folder (issue 26): `sentence-transformers@fnv64:` + 16 hex digits.
        #expect(m.info.embeddingSpace.wholeMatch(of: /sentence-transformers@fnv64:[0-9a-f]{16}/) != nil, "\(m.info.embeddingSpace)")
        #expect(m.info.version.wholeMatch(of: /fnv64:[0-9a-f]{16}/) != nil, "\(m.info.version)")
    }

    /// A folder of links to every file of all-MiniLM-L6-v2, except `replace` (name → contents).
    static func copy(of model: String, named name: String, replacing replace: [String: String] = [:], leaving leave: Set<String> = []) throws -> String {
        let source = try TextPluginFixtures.model(model)
        let dir = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-textcopy.XXXXXX") + "/" + name
        try FileSystem.makeDirectory(dir)
        for entry in try FileSystem.contentsOfDirectory(source) where !leave.contains(entry) && !replace.keys.contains(where: { $0.hasPrefix(entry) }) {
            try FileManager.default.createSymbolicLink(atPath: dir + "/" + entry, withDestinationPath: source + "/" + entry)
        }
        for (file, text) in replace {
            if let slash = file.lastIndex(of: "/") { try FileSystem.makeDirectories(dir + "/" + file[..<slash]) }
            try text.write(toFile: dir + "/" + file, atomically: false, encoding: .utf8)
        }
        return dir
    }

    /// A copy of the model in another folder is the same space; other pooling is another space
    /// with the same weights' fingerprint (the version, by which old bindings are rebound).
    @Test func theSpaceIsTheContentNotTheFolder() throws {
        func describe(_ folder: String) throws -> (space: String, version: String) {
            let (host, m) = try TextPluginFixtures.load(folder)
            defer { m.dispose(); host.shutdown() }
            return (m.info.embeddingSpace, m.info.version)
        }
        let original = try describe(try TextPluginFixtures.model("all-MiniLM-L6-v2"))
        let copy = try Self.copy(of: "all-MiniLM-L6-v2", named: "my-copy")
        defer { try? FileManager.default.removeItem(atPath: (copy as NSString).deletingLastPathComponent) }
        #expect(try describe(copy) == original)
        let cls = try Self.copy(of: "all-MiniLM-L6-v2", named: "cls-pooling",
                                replacing: ["1_Pooling/config.json": #"{"word_embedding_dimension": 384, "pooling_mode_cls_token": true}"#])
        defer { try? FileManager.default.removeItem(atPath: (cls as NSString).deletingLastPathComponent) }
        let other = try describe(cls)
        #expect(other.version == original.version)
        #expect(other.space != original.space && other.space.hasPrefix("sentence-transformers@fnv64:"))
    }

    /// A folder with PyTorch's pickled weights only: the error names the converter.
    @Test func aFolderWithOnlyPytorchWeightsNamesTheConverter() throws {
        let folder = try Self.copy(of: "all-MiniLM-L6-v2", named: "pickled", replacing: ["pytorch_model.bin": "PK"], leaving: ["model.safetensors"])
        defer { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }
        #expect { _ = try TextPluginFixtures.load(folder) } throws: { e in
            "\(e)".contains("\(folder) has only PyTorch weights (pytorch_model.bin)") && "\(e)".contains("run tools/convert-pytorch-bin on it once (writes model.safetensors)")
        }
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
