@testable import EmbedServer
import EmbedSys
import Foundation
import Testing

/// `config_sentence_transformers.json` read as sentence-transformers reads it (issue 26), and
/// the collection binding's prompt lines.
struct ModelPromptsTests {
    static func parse(_ json: String) throws(PromptError) -> ModelPrompts {
        try ModelPrompts.parse(Array(json.utf8), path: "m/config_sentence_transformers.json")
    }

    static func message(_ json: String) -> String {
        do { _ = try parse(json); return "" } catch { return error.message }
    }

    @Test func promptsKeepTheFilesOrderAndTheLastTextOfARepeatedName() throws {
        let p = try Self.parse(#"{"prompts": {"query": "q1: ", "passage": "passage: ", "query": "query: ", "empty": null}}"#)
        #expect(p.names == ["query", "passage", "empty"])
        #expect(p.text(named: "query") == "query: " && p.text(named: "empty") == "")
        #expect(p.defaultName == nil)
        #expect(try p.resolve(asked: "", model: "m") == nil)
        #expect(try p.resolve(asked: "passage", model: "m") == "passage: ")
    }

    @Test func theDefaultAppliesUnlessACallOrCollectionNamesAnother() throws {
        let p = try Self.parse(#"{"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": "query"}"#)
        #expect(try p.resolve(asked: "", model: "m") == "query: ")
        #expect(try p.resolve(asked: "", fallback: "passage", model: "m") == "passage: ")
        #expect(try p.resolve(asked: "query", fallback: "passage", model: "m") == "query: ")
        #expect(try p.resolve(asked: "none", model: "m") == nil)
        #expect(try p.resolve(asked: "", fallback: "none", model: "m") == nil)
    }

    @Test func filesWithoutPromptsHaveNone() throws {
        #expect(try Self.parse(#"{"__version__": {"sentence_transformers": "2.0.0"}}"#).isEmpty)
        #expect(try Self.parse(#"{"prompts": {}, "default_prompt_name": null}"#).isEmpty)
        #expect(try ModelPrompts.read(directory: "/nonexistent-\(getpid())").isEmpty)
    }

    @Test func whatSentenceTransformersRefusesIsRefusedByName() {
        #expect(Self.message("[1]").contains("an array, not a JSON object"))
        #expect(Self.message("{").contains("is not valid JSON"))
        #expect(Self.message(#"{"prompts": ["query: "]}"#).contains(#""prompts" is an array, not an object"#))
        #expect(Self.message(#"{"prompts": {"query": 1}}"#).contains(#"prompt "query" is a number, not a string"#))
        #expect(Self.message(#"{"prompts": {"query": "q"}, "default_prompt_name": "passage"}"#)
                    .contains(#"default_prompt_name "passage" names no prompt (its prompts are query)"#))
        #expect(Self.message(#"{"default_prompt_name": 3}"#).contains("not a string"))
    }

    @Test func unknownNamesNameWhatThereIs() throws {
        let p = try Self.parse(#"{"prompts": {"query": "query: ", "passage": "passage: "}}"#)
        do { _ = try p.resolve(asked: "qurey", model: "e5"); Issue.record("resolved") } catch {
            #expect(error.message == "model 'e5' has no prompt named 'qurey' (its prompts: query, passage; 'none' for no prompt)")
        }
        do { try ModelPrompts.empty.check("query", model: "plain"); Issue.record("checked") } catch {
            #expect(error.message.hasPrefix("model 'plain' has no prompts"))
        }
        try ModelPrompts.empty.check("none", model: "plain")
        try ModelPrompts.empty.check("", model: "plain")
    }

    @Test func poolingThatLeavesThePromptOutCannotServeIt() throws {
        let dir = try FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-prompts.XXXXXX")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/1_Pooling", withIntermediateDirectories: true)
        try #"[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}, {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]"#
            .write(toFile: dir + "/modules.json", atomically: true, encoding: .utf8)
        try #"{"pooling_mode_mean_tokens": true, "include_prompt": false}"#.write(toFile: dir + "/1_Pooling/config.json", atomically: true, encoding: .utf8)
        try #"{"prompts": {"query": "Represent: "}}"#.write(toFile: dir + "/" + ModelPrompts.fileName, atomically: true, encoding: .utf8)
        let p = try ModelPrompts.read(directory: dir)
        #expect(p.names == ["query"])
        do { _ = try p.resolve(asked: "query", model: "instructor"); Issue.record("resolved") } catch {
            #expect(error.message.contains("include_prompt: false"))
        }
        try #"{"prompts": {"query": "Represent: "}, "default_prompt_name": "query"}"#
            .write(toFile: dir + "/" + ModelPrompts.fileName, atomically: true, encoding: .utf8)
        do { _ = try ModelPrompts.read(directory: dir); Issue.record("read") } catch {
            #expect(error.message.contains("cannot be applied"))
        }
    }

    @Test func bindingFilesKeepPromptsAndReadWithoutThem() throws {
        var b = CollectionBinding(model: "e5", space: "s", ownerUID: 1000, createdUnixMilliseconds: 5)
        let plain = String(decoding: b.encoded(), as: UTF8.self)
        #expect(!plain.contains("prompt"))
        #expect(try CollectionBinding.decode(b.encoded(), path: "x") == b)
        b.addPrompt = "passage"
        b.queryPrompt = "query"
        let text = String(decoding: b.encoded(), as: UTF8.self)
        #expect(text.hasSuffix("writer_gids \ndocuments 1\nadd_prompt passage\nquery_prompt query\n"), "\(text)")
        // A collection created with no_documents keeps that, and a file without the line
        // (written before documents existed) records them.
        b.documents = false
        #expect(try CollectionBinding.decode(b.encoded(), path: "x").documents == false)
        let noLine = Array(plain.utf8.split(separator: UInt8(ascii: "\n")).filter { !$0.starts(with: Array("documents".utf8)) }
            .joined(separator: [UInt8(ascii: "\n")])) + [UInt8(ascii: "\n")]
        #expect(try CollectionBinding.decode(noLine, path: "x").documents == true)
        b.documents = true
        #expect(try CollectionBinding.decode(b.encoded(), path: "x") == b)
        // A file written before prompts existed.
        let old = try CollectionBinding.decode(Array(plain.utf8), path: "x")
        #expect(old.addPrompt.isEmpty && old.queryPrompt.isEmpty)
    }
}
