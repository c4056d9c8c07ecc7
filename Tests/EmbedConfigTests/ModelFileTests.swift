import Testing
@testable import EmbedConfig

/// DATA_DIR/models.d/NAME.yaml: what LoadModel writes reads back the same, and hand-edited
/// files fail with FILE:LINE:COLUMN errors.
@Suite struct ModelFileTests {
    func decode(_ text: String, file: String = "/d/models.d/m.yaml") throws(ConfigError) -> ModelConfig {
        try ModelFile.decode(Array(text.utf8), fileName: file)
    }

    @Test func whatIsWrittenReadsBackTheSame() throws {
        // Values YAML would read as something else unquoted, escapes, and non-ASCII text.
        let odd = ["on", "0660", "#x", "a: b", "- c", "\"q\" \\ back", "tab\there", "line\nbreak", "null", "", "ünï\u{7F}\u{85}\u{2028}"]
        var options: [String: String] = [:]
        for (i, v) in odd.enumerated() { options["k\(i)"] = v }
        options["yes"] = "~"
        let m = ModelConfig(name: "m", plugin: "/opt/p/libembedd-text.so", modelDirectory: "dir with spaces/x", options: options, truncate: false)
        let text = ModelFile.encode(m, header: ["a comment", "second line"])
        #expect(text.hasPrefix("# a comment\n# second line\nname: \"m\"\n"))
        let back = try decode(text)
        #expect(back == m)
        let plain = ModelConfig(name: "m", plugin: "text", modelDirectory: "m")
        #expect(try decode(ModelFile.encode(plain)) == plain)
    }

    @Test func handWrittenFilesUseThePlainYAMLOfTheConfiguration() throws {
        let m = try decode("name: m\nplugin: text\noptions:\n  precision: fp32\n  threads: 2\n")
        #expect(m == ModelConfig(name: "m", plugin: "text", modelDirectory: "m", options: ["precision": "fp32", "threads": "2"]))
    }

    @Test func problemsNameTheFileLineAndColumn() {
        for (text, file, want) in [
            ("name: m\nplugin: [x\n", "/d/m.yaml", "/d/m.yaml:3:1: YAML syntax error"),
            ("name: m\nplugin: text\ndefault: true\n", "/d/m.yaml", "/d/m.yaml:3:1: unknown setting \"default\" in the model file (allowed: name, plugin, model_dir, options, truncate)"),
            ("plugin: text\n", "/d/m.yaml", "/d/m.yaml:1:1: the model file has no name"),
            ("name: m\n", "/d/m.yaml", "/d/m.yaml:1:1: model \"m\" has no plugin"),
            ("- name: m\n", "/d/m.yaml", "/d/m.yaml:1:1: a model file must be a mapping"),
            ("name: other\nplugin: text\n", "/d/m.yaml", "/d/m.yaml: the file holds model \"other\" but is named m.yaml"),
            ("name: m\nplugin: text\noptions: [a]\n", "/d/m.yaml", "/d/m.yaml:3:10: options must be a mapping"),
        ] {
            do {
                _ = try decode(text, file: file)
                Issue.record("no error for \(text)")
            } catch {
                #expect(error.description.hasPrefix(want), "\(error)")
            }
        }
    }

    @Test func storableNames() {
        for n in ["all-MiniLM-L6-v2", "bge.small_en", "x", String(repeating: "a", count: 200)] { #expect(ModelFile.isStorableName(n), "\(n)") }
        for n in ["", ".hidden", "a/b", "a b", "ü", "..", String(repeating: "a", count: 201), "a\u{0}"] { #expect(!ModelFile.isStorableName(n), "\(n)") }
    }
}
