import EmbedJSON
import EmbedNN
import EmbedSys

/// The committed CLIP tokenizer fixtures (Tests/Fixtures/clip, made by
/// tools/make-golden-clip-tokens.py): the real vocabulary folder and the reference ids.
enum CLIPFixtures {
    static let dir: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)  // EmbedNNTests/CLIPFixtures.swift
        return parts.joined(separator: "/") + "/Fixtures/clip"
    }()

    /// vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json.
    static var vocabFolder: String { dir + "/vocab" }

    /// The tokenizer of the fixture folder, loaded once.
    static let tokenizer: CLIPTokenizer = try! CLIPTokenizer(folder: vocabFolder)

    /// One corpus input with the reference ids (start and end tokens included).
    struct Case {
        let label: String
        let text: String
        let hf: [Int32]
        let hf77: [Int32]
        let openCLIP: [Int32]
    }

    static func ids(_ v: JSONValue?) -> [Int32] { (v?.array ?? []).map { Int32($0.int!) } }

    static func jsonLines(_ name: String) -> [JSONValue] {
        let bytes = try! FileSystem.readFile(dir + "/" + name)
        return bytes.split(separator: UInt8(ascii: "\n")).map { try! JSONValue.parse(Array($0)) }
    }

    static let cases: [Case] = jsonLines("tokens.jsonl").map { j in
        Case(label: j["label"]!.string!, text: j["text"]!.string!, hf: ids(j["hf"]), hf77: ids(j["hf77"]), openCLIP: ids(j["open_clip"]))
    }

    static func read(_ path: String) -> [UInt8] { try! FileSystem.readFile(path) }

    static func write(_ path: String, _ bytes: [UInt8]) {
        let fd = try! FileDescriptor.open(path, [.writeOnly, .create, .truncate])
        try! fd.writeAll(bytes)
        try! fd.close()
    }

    static func write(_ path: String, _ text: String) { write(path, Array(text.utf8)) }

    /// A scratch folder holding copies of the named fixture files.
    static func folder(_ name: String, copying files: [String] = ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]) -> String {
        let d = TinyModel.scratch("clip-" + name)
        for f in files { write(d + "/" + f, read(vocabFolder + "/" + f)) }
        return d
    }

    /// tokenizer.json as Hugging Face saves it for the fixture folder: the committed skeleton
    /// with model.vocab and model.merges filled back in, merges as ["a", "b"] pairs or "a b".
    static func tokenizerJSON(mergesAsStrings: Bool) -> String {
        let skeleton = try! JSONValue.parse(read(dir + "/tokenizer.skeleton.json"))
        let vocab = try! JSONValue.parse(read(vocabFolder + "/vocab.json"))
        var merges: [JSONValue] = []
        for line in read(vocabFolder + "/merges.txt").split(separator: UInt8(ascii: "\n")) where line.first != UInt8(ascii: "#") {
            let parts = line.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
            merges.append(mergesAsStrings ? .string(parts.joined(separator: " ")) : .array(parts.map { .string($0) }))
        }
        func replacing(_ v: JSONValue, _ key: String, _ with: JSONValue) -> JSONValue {
            .object(v.members!.map { $0.0 == key ? ($0.0, with) : $0 })
        }
        var model = skeleton["model"]!
        model = replacing(model, "vocab", vocab)
        model = replacing(model, "merges", .array(merges))
        return JSONWriter.compact(replacing(skeleton, "model", model))
    }
}
