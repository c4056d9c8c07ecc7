import EmbedJSON
import EmbedSys

/// The files of a CLIP tokenizer, read and checked: the vocabulary and merges (from
/// tokenizer.json, else vocab.json + merges.txt, as transformers prefers) and the special
/// tokens (`CLIPSpecialTokens`). Every error names the file.
struct CLIPTokenizerFiles {
    /// Token text → id.
    var vocabulary: [String: Int32] = [:]
    /// Merge rank and merged id per pair of ids.
    var merges = BPEMergeTable(capacity: 0)
    var specials: CLIPSpecialTokens
    /// The file errors about the vocabulary name.
    var vocabularySource: String
    /// The file errors about special tokens name.
    var specialsSource: String

    /// Longest merges.txt accepted (CLIP's is 0.5 MB).
    static let maxMergesBytes = 64 * 1024 * 1024

    init(folder: String) throws(NNError) {
        guard FileSystem.isDirectory(folder) else { throw NNError.file(folder, "not a directory") }
        let configPath = folder + "/tokenizer_config.json"
        let config = try ModelFolder.readOptionalJSON(configPath) ?? .object([])
        guard config.members != nil else { throw NNError.file(configPath, "must be a JSON object") }
        if let cls = config["tokenizer_class"]?.string, !cls.hasPrefix("CLIPTokenizer") {
            throw NNError.file(configPath, "tokenizer_class \(cls) is not CLIPTokenizer")
        }
        let mapPath = folder + "/special_tokens_map.json"
        let specialMap = try ModelFolder.readOptionalJSON(mapPath)
        if let specialMap, specialMap.members == nil { throw NNError.file(mapPath, "must be a JSON object") }

        let jsonPath = folder + "/tokenizer.json"
        var fileAdded: [(Int, CLIPSpecialTokens.Value)] = []
        var pairs: [(String, String)] = []
        let vocab: [String: Int32]
        let mergeName: (Int) -> String
        if FileSystem.isRegularFile(jsonPath) {
            let json = try ModelFolder.readJSON(jsonPath)
            try Self.checkPipeline(json, jsonPath)
            guard let model = json["model"] else { throw NNError.file(jsonPath, "missing \"model\"") }
            vocab = try Self.vocabulary(model["vocab"], jsonPath, what: "model.vocab")
            guard let list = model["merges"]?.array else { throw NNError.file(jsonPath, "model.merges is missing or not a list") }
            pairs.reserveCapacity(list.count)
            for (i, m) in list.enumerated() {
                // "a b" strings (older files) or ["a", "b"] pairs.
                if let s = m.string {
                    let parts = s.split(separator: " ", omittingEmptySubsequences: false)
                    guard parts.count == 2 else { throw NNError.file(jsonPath, "model.merges[\(i)] '\(s)' is not two tokens separated by a space") }
                    pairs.append((String(parts[0]), String(parts[1])))
                } else if let a = m.array, a.count == 2, let l = a[0].string, let r = a[1].string {
                    pairs.append((l, r))
                } else {
                    throw NNError.file(jsonPath, "model.merges[\(i)] is neither \"a b\" nor [\"a\", \"b\"]")
                }
            }
            for t in json["added_tokens"]?.array ?? [] {
                guard let id = t["id"]?.int, id >= 0, id <= Int(Int32.max) else {
                    throw NNError.file(jsonPath, "added_tokens entry without a valid id")
                }
                fileAdded.append((id, try CLIPSpecialTokens.value(t, special: false, "added_tokens entry", jsonPath)))
            }
            vocabularySource = jsonPath
            mergeName = { i in "\(jsonPath): model.merges[\(i)]" }
        } else {
            let vocabPath = folder + "/vocab.json"
            let mergesPath = folder + "/merges.txt"
            guard FileSystem.exists(vocabPath) || FileSystem.exists(mergesPath) else {
                throw NNError.file(folder, "no tokenizer: neither tokenizer.json nor vocab.json + merges.txt exists")
            }
            vocab = try Self.vocabulary(try ModelFolder.readJSON(vocabPath), vocabPath, what: "the vocabulary")
            let lines = try Self.mergesTxt(mergesPath)
            pairs = lines.map(\.pair)
            vocabularySource = vocabPath
            mergeName = { i in "\(mergesPath): line \(lines[i].line)" }
        }
        specials = try CLIPSpecialTokens(config: config, configPath: configPath, specialMap: specialMap, mapPath: mapPath,
                                         fileAdded: fileAdded)
        specialsSource = FileSystem.exists(configPath) ? configPath : (FileSystem.exists(mapPath) ? mapPath : folder)
        try resolve(vocab, pairs, where: mergeName)
    }

    /// Token text → id from a JSON object; ids must be integers in 0…Int32.max.
    static func vocabulary(_ json: JSONValue?, _ path: String, what: String) throws(NNError) -> [String: Int32] {
        guard let members = json?.members else { throw NNError.file(path, "\(what) must be a JSON object of token → id") }
        guard !members.isEmpty else { throw NNError.file(path, "\(what) is empty") }
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(members.count)
        for (token, value) in members {
            guard let id = value.int, id >= 0, id <= Int(Int32.max) else {
                throw NNError.file(path, "token '\(token)' has no valid id (\(value.number?.text ?? value.typeName))")
            }
            vocab[token] = Int32(id)
        }
        return vocab
    }

    /// The merges of merges.txt with their line numbers. As `tokenizers` reads it: lines
    /// starting with "#version" are skipped, every other line is two tokens and one space.
    static func mergesTxt(_ path: String) throws(NNError) -> [(line: Int, pair: (String, String))] {
        guard FileSystem.exists(path) else { throw NNError.file(path, "missing file") }
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path, limit: maxMergesBytes + 1) } catch { throw NNError.file(path, "cannot read: \(error)") }
        guard bytes.count <= maxMergesBytes else { throw NNError.file(path, "larger than \(maxMergesBytes) bytes") }
        var out: [(line: Int, pair: (String, String))] = []
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        let version = Array("#version".utf8)
        for (n, raw) in lines.enumerated() {
            var line = raw
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.starts(with: version) { continue }
            let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw NNError.file(path, "line \(n + 1): expected two tokens separated by one space")
            }
            out.append((n + 1, (String(decoding: parts[0], as: UTF8.self), String(decoding: parts[1], as: UTF8.self))))
        }
        return out
    }

    /// Builds the merge table; the merge of rank i joins its two tokens into a token that must
    /// be in the vocabulary, as both tokens must (`where(i)` names the merge in errors).
    private mutating func resolve(_ vocab: [String: Int32], _ pairs: [(String, String)], where: (Int) -> String) throws(NNError) {
        vocabulary = vocab
        merges = BPEMergeTable(capacity: pairs.count)
        for (rank, (a, b)) in pairs.enumerated() {
            guard let left = vocab[a] else { throw NNError("\(`where`(rank)): token '\(a)' is not in the vocabulary") }
            guard let right = vocab[b] else { throw NNError("\(`where`(rank)): token '\(b)' is not in the vocabulary") }
            guard let merged = vocab[a + b] else { throw NNError("\(`where`(rank)): merged token '\(a + b)' is not in the vocabulary") }
            merges.insert(left, right, BPEMergeTable.Merge(rank: UInt32(rank), merged: merged))
        }
    }

    /// Refuses a tokenizer.json whose normaliser or pre-tokenizer is not CLIP's, or whose model
    /// is not end-of-word BPE. (transformers' CLIPTokenizer would ignore them and use its own
    /// pipeline; a file that says otherwise was made for another tokenizer.)
    static func checkPipeline(_ json: JSONValue, _ path: String) throws(NNError) {
        func types(_ v: JSONValue?, _ listKey: String) -> [String]? {
            guard let v, !v.isNull else { return nil }
            if v["type"]?.string == "Sequence" { return v[listKey]?.array?.map { $0["type"]?.string ?? "?" } ?? [] }
            return [v["type"]?.string ?? "?"]
        }
        if let n = types(json["normalizer"], "normalizers"), n != ["NFC", "Replace", "Lowercase"] {
            throw NNError.file(path, "normalizer \(n.joined(separator: " + ")) is not CLIP's (NFC + Replace + Lowercase); not supported")
        }
        if let p = types(json["pre_tokenizer"], "pretokenizers"), p != ["Split", "ByteLevel"] {
            throw NNError.file(path, "pre_tokenizer \(p.joined(separator: " + ")) is not CLIP's (Split + ByteLevel); not supported")
        }
        if let type = json["model"]?["type"]?.string, type != "BPE" {
            throw NNError.file(path, "tokenizer model type \(type) is not supported (CLIP's BPE only)")
        }
        if let suffix = json["model"]?["end_of_word_suffix"]?.string, suffix != "</w>" {
            throw NNError.file(path, "model.end_of_word_suffix '\(suffix)' is not CLIP's '</w>'")
        }
    }
}
