@_spi(_Unicode) import Swift
import EmbedJSON
import EmbedSys

/// BERT's WordPiece tokenizer as Hugging Face `tokenizers` runs it for BERT and MPNet models:
/// added tokens matched first, then `BertNormalizer`, whitespace/punctuation split, greedy
/// longest-match-first word pieces, and the template's special tokens around the result.
///
/// Loaded from `tokenizer.json` (or, without it, `vocab.txt` + `tokenizer_config.json`).
public struct WordPieceTokenizer: Sendable {
    /// Token text → id.
    public let vocabulary: [String: Int32]
    /// Id of the unknown-word token.
    public let unknownID: Int32
    /// Ids put before the text ([CLS] / <s>).
    public let prefixIDs: [Int32]
    /// Ids put after the text ([SEP] / </s>).
    public let suffixIDs: [Int32]
    /// Id used for padding.
    public let padID: Int32
    /// The normaliser settings.
    public let normalizer: BertNormalizer
    /// Literal tokens matched before normalisation.
    public let addedTokens: [AddedToken]
    /// Prefix marking a word piece that continues a word ("##").
    public let continuingPrefix: String
    /// Longer words become the unknown token without being split.
    public let maxInputCharsPerWord: Int
    /// Length in scalars of the longest vocabulary entry in its canonical decomposition (NFD,
    /// the longest form a canonically equivalent candidate can take — vocabulary lookups use
    /// String equality): no word piece is longer, so the longest-match search never tries
    /// longer candidates. Without the bound it builds O(L²) candidate strings of up to L scalars
    /// per word (L³ work on crafted text).
    let longestToken: Int

    static func longestDecomposed(_ keys: some Sequence<String>) -> Int {
        keys.reduce(0) { longest, key in
            let n = key.unicodeScalars.allSatisfy(\.isASCII) ? key.unicodeScalars.count : key._nfd.reduce(0) { c, _ in c + 1 }
            return max(longest, n)
        }
    }

    /// The largest id this tokenizer can emit (vocabulary, added and special tokens, padding):
    /// the model's embedding table must have a row for it.
    public var largestTokenID: Int32 {
        max(vocabulary.values.max() ?? 0, addedTokens.map(\.id).max() ?? 0, prefixIDs.max() ?? 0, suffixIDs.max() ?? 0,
            unknownID, padID)
    }

    /// Number of special tokens the template adds to one sequence.
    public var specialTokenCount: Int { prefixIDs.count + suffixIDs.count }

    /// Loads the tokenizer of a model folder.
    public init(folder: String) throws(NNError) {
        let jsonPath = folder + "/tokenizer.json"
        if FileSystem.isRegularFile(jsonPath) {
            try self.init(tokenizerJSON: try ModelFolder.readJSON(jsonPath), path: jsonPath)
        } else {
            let vocabPath = folder + "/vocab.txt"
            guard FileSystem.isRegularFile(vocabPath) else {
                throw NNError.file(folder, "no tokenizer: neither tokenizer.json nor vocab.txt exists")
            }
            let configPath = folder + "/tokenizer_config.json"
            let config = FileSystem.isRegularFile(configPath) ? try ModelFolder.readJSON(configPath) : JSONValue.object([])
            try self.init(vocabTxt: vocabPath, config: config, configPath: configPath)
        }
    }

    /// Builds from a parsed tokenizer.json.
    init(tokenizerJSON json: JSONValue, path: String) throws(NNError) {
        // Every id in the file is checked: `Int32(_:)` on a value out of range would trap.
        func tokenID(_ value: Int?, _ what: String) throws(NNError) -> Int32 {
            guard let value, value >= 0, value <= Int(Int32.max) else {
                throw NNError.file(path, "\(what) has no valid token id (\(value.map(String.init) ?? "none"))")
            }
            return Int32(value)
        }
        guard let model = json["model"] else { throw NNError.file(path, "missing \"model\"") }
        guard model["type"]?.string == "WordPiece" else {
            throw NNError.file(path, "tokenizer model type \(model["type"]?.string ?? "none") is not supported (WordPiece only)")
        }
        guard let vocabMembers = model["vocab"]?.members, !vocabMembers.isEmpty else {
            throw NNError.file(path, "model.vocab is missing or empty")
        }
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(vocabMembers.count)
        for (token, idValue) in vocabMembers {
            guard let id = idValue.int, id >= 0, id <= Int(Int32.max) else {
                throw NNError.file(path, "vocab entry '\(token)' has no valid id")
            }
            vocab[token] = Int32(id)
        }
        let unk = model["unk_token"]?.string ?? "[UNK]"
        guard let unkID = vocab[unk] else { throw NNError.file(path, "unk_token '\(unk)' is not in the vocabulary") }
        continuingPrefix = model["continuing_subword_prefix"]?.string ?? "##"
        maxInputCharsPerWord = model["max_input_chars_per_word"]?.int ?? 100

        var added: [AddedToken] = []
        for t in json["added_tokens"]?.array ?? [] {
            guard let content = t["content"]?.string else { throw NNError.file(path, "added_tokens entry without content") }
            let id = try tokenID(t["id"]?.int, "added token '\(content)'")
            added.append(AddedToken(content: Array(content.unicodeScalars), id: id,
                                    normalized: t["normalized"]?.bool ?? false,
                                    lstrip: t["lstrip"]?.bool ?? false, rstrip: t["rstrip"]?.bool ?? false))
            vocab[content] = vocab[content] ?? id
        }

        var norm = BertNormalizer()
        if let n = json["normalizer"], !n.isNull {
            guard n["type"]?.string == "BertNormalizer" else {
                throw NNError.file(path, "normalizer type \(n["type"]?.string ?? "?") is not supported (BertNormalizer only)")
            }
            norm.cleanText = n["clean_text"]?.bool ?? true
            norm.handleChineseChars = n["handle_chinese_chars"]?.bool ?? true
            norm.lowercase = n["lowercase"]?.bool ?? true
            // strip_accents: null means "follow lowercase", as in the reference.
            norm.stripAccents = n["strip_accents"]?.bool ?? norm.lowercase
        } else {
            norm = BertNormalizer(cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false)
        }
        if let p = json["pre_tokenizer"], !p.isNull, p["type"]?.string != "BertPreTokenizer" {
            throw NNError.file(path, "pre_tokenizer type \(p["type"]?.string ?? "?") is not supported (BertPreTokenizer only)")
        }

        var prefix: [Int32] = []
        var suffix: [Int32] = []
        if let post = json["post_processor"], !post.isNull {
            switch post["type"]?.string {
            case "TemplateProcessing":
                guard let single = post["single"]?.array else { throw NNError.file(path, "post_processor.single missing") }
                var seenSequence = false
                for item in single {
                    if item["Sequence"] != nil { seenSequence = true; continue }
                    guard let name = item["SpecialToken"]?["id"]?.string else {
                        throw NNError.file(path, "post_processor.single has an unknown item")
                    }
                    let ids: [Int32]
                    if let list = post["special_tokens"]?[name]?["ids"]?.array {
                        var checked: [Int32] = []
                        for v in list { checked.append(try tokenID(v.int, "post_processor special token '\(name)'")) }
                        ids = checked
                    } else if let id = vocab[name] {
                        ids = [id]
                    } else {
                        throw NNError.file(path, "special token '\(name)' of the template is not in the vocabulary")
                    }
                    if seenSequence { suffix += ids } else { prefix += ids }
                }
            case "RobertaProcessing", "BertProcessing":
                guard let cls = post["cls"]?.array, cls.count == 2, let sep = post["sep"]?.array, sep.count == 2 else {
                    throw NNError.file(path, "post_processor cls/sep missing")
                }
                prefix = [try tokenID(cls[1].int, "post_processor cls")]
                suffix = [try tokenID(sep[1].int, "post_processor sep")]
            case let other:
                throw NNError.file(path, "post_processor type \(other ?? "?") is not supported")
            }
        }
        let padName = json["padding"]?["pad_token"]?.string
        padID = try tokenID(json["padding"]?["pad_id"]?.int ?? padName.flatMap { vocab[$0] }.map(Int.init) ?? 0, "padding.pad_id")
        vocabulary = vocab
        longestToken = WordPieceTokenizer.longestDecomposed(vocab.keys)
        unknownID = unkID
        prefixIDs = prefix
        suffixIDs = suffix
        normalizer = norm
        addedTokens = added
    }

    /// Builds from vocab.txt (one token per line, id = line number) and tokenizer_config.json.
    init(vocabTxt path: String, config: JSONValue, configPath: String) throws(NNError) {
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path) } catch { throw NNError.file(path, "cannot read: \(error)") }
        var vocab: [String: Int32] = [:]
        var id: Int32 = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var l = line
            if l.last == UInt8(ascii: "\r") { l = l.dropLast() }
            if !l.isEmpty || id == 0 { vocab[String(decoding: l, as: UTF8.self)] = vocab[String(decoding: l, as: UTF8.self)] ?? id }
            id += 1
        }
        let isMPNet = config["tokenizer_class"]?.string?.hasPrefix("MPNet") ?? false
        func special(_ key: String, _ fallback: String) throws(NNError) -> Int32 {
            var name = fallback
            if let v = config[key] {
                if let s = v.string { name = s } else if let s = v["content"]?.string { name = s }
            }
            guard let id = vocab[name] else { throw NNError.file(path, "special token '\(name)' (\(key)) is not in vocab.txt") }
            return id
        }
        let cls = try special("cls_token", isMPNet ? "<s>" : "[CLS]")
        let sep = try special("sep_token", isMPNet ? "</s>" : "[SEP]")
        unknownID = try special("unk_token", "[UNK]")
        padID = try special("pad_token", isMPNet ? "<pad>" : "[PAD]")
        prefixIDs = [cls]
        suffixIDs = [sep]
        let lower = config["do_lower_case"]?.bool ?? true
        normalizer = BertNormalizer(cleanText: true, handleChineseChars: config["tokenize_chinese_chars"]?.bool ?? true,
                                    stripAccents: config["strip_accents"]?.bool ?? lower, lowercase: lower)
        var added: [AddedToken] = []
        for key in ["cls_token", "sep_token", "unk_token", "pad_token", "mask_token", "bos_token", "eos_token"] {
            guard let v = config[key] else { continue }
            let name = v.string ?? v["content"]?.string
            if let name, let tid = vocab[name], !added.contains(where: { $0.id == tid }) {
                added.append(AddedToken(content: Array(name.unicodeScalars), id: tid, normalized: false,
                                        lstrip: v["lstrip"]?.bool ?? false, rstrip: v["rstrip"]?.bool ?? false))
            }
        }
        addedTokens = added
        vocabulary = vocab
        longestToken = WordPieceTokenizer.longestDecomposed(vocab.keys)
        continuingPrefix = "##"
        maxInputCharsPerWord = 100
    }

    /// The token ids of `text` without special tokens. With `limit`, stops once at least
    /// `limit` ids are known (the result may hold a few more), so truncating a huge input does
    /// not tokenise all of it.
    ///
    /// The text is processed in pieces cut before ASCII whitespace, a CJK ideograph or a
    /// punctuation character (one that no added token contains) after ~2048 scalars: all are
    /// word boundaries for BertPreTokenizer and starters for NFD, and no added token spans them,
    /// so the ids equal those of the whole text at once (the golden tests cover long inputs).
    public func contentIDs(_ text: String, limit: Int? = nil) -> [Int32] {
        var ids: [Int32] = []
        let raw = Array(text.unicodeScalars)
        let literal = addedTokens.filter { !$0.normalized }
        let normalizedTokens = addedTokens.filter { $0.normalized }
        var start = 0
        while start < raw.count {
            var end = min(raw.count, start + 2048)
            while end < raw.count {
                let c = raw[end]
                if c == " " || c == "\n" || c == "\t" || c == "\r" || (c.value >= 0x3400 && BertNormalizer.chinese.contains(c)) { break }
                if BertNormalizer.punctuation.contains(c) && !addedTokens.contains(where: { $0.content.contains(c) }) { break }
                end += 1
            }
            // Pass 1: literal added tokens in the raw text; pass 2: normalised ones in each segment.
            for segment in split(raw[start..<end], on: literal) {
                switch segment {
                case .token(let id): ids.append(id)
                case .text(let s):
                    let normalized = normalizer.normalize(s)
                    for inner in split(normalized[...], on: normalizedTokens) {
                        switch inner {
                        case .token(let id): ids.append(id)
                        case .text(let t):
                            for word in BertNormalizer.splitWords(t) { wordPieces(word, into: &ids) }
                        }
                    }
                }
            }
            if let limit, ids.count >= limit { break }
            start = end
        }
        return ids
    }

    /// The model input for `text`: special tokens around the content, truncated so the whole
    /// sequence has at most `maxLength` tokens.
    public func encode(_ text: String, maxLength: Int) -> [Int32] {
        wrap(contentIDs(text, limit: maxLength), maxLength: maxLength)
    }

    /// Wraps content ids in the template's special tokens, truncating the content to fit.
    public func wrap<C: Collection<Int32>>(_ content: C, maxLength: Int) -> [Int32] {
        let room = max(0, maxLength - specialTokenCount)
        return prefixIDs + content.prefix(room) + suffixIDs
    }

    private enum Segment {
        case text(ArraySlice<Unicode.Scalar>)
        case token(Int32)
    }

    /// Splits at leftmost-longest matches of `tokens`, absorbing whitespace for lstrip/rstrip.
    private func split(_ s: ArraySlice<Unicode.Scalar>, on tokens: [AddedToken]) -> [Segment] {
        guard !tokens.isEmpty else { return [.text(s)] }
        var out: [Segment] = []
        var textStart = s.startIndex
        var i = s.startIndex
        while i < s.endIndex {
            var best: AddedToken? = nil
            for t in tokens where !t.content.isEmpty && t.content.count > (best?.content.count ?? 0) && i + t.content.count <= s.endIndex {
                if s[i..<(i + t.content.count)].elementsEqual(t.content) { best = t }
            }
            guard let token = best else { i += 1; continue }
            var matchStart = i
            var matchEnd = i + token.content.count
            if token.lstrip { while matchStart > textStart && s[matchStart - 1].properties.isWhitespace { matchStart -= 1 } }
            if token.rstrip { while matchEnd < s.endIndex && s[matchEnd].properties.isWhitespace { matchEnd += 1 } }
            if matchStart > textStart { out.append(.text(s[textStart..<matchStart])) }
            out.append(.token(token.id))
            textStart = matchEnd
            i = matchEnd
        }
        if textStart < s.endIndex { out.append(.text(s[textStart...])) }
        return out
    }

    /// Greedy longest-match-first word pieces of one word; the whole word becomes the unknown
    /// token if any part cannot be matched or it is too long.
    private func wordPieces(_ word: ArraySlice<Unicode.Scalar>, into ids: inout [Int32]) {
        if word.count > maxInputCharsPerWord { ids.append(unknownID); return }
        var pieces: [Int32] = []
        var start = word.startIndex
        while start < word.endIndex {
            let prefix = start == word.startIndex ? "" : continuingPrefix
            var end = min(word.endIndex, start + max(1, longestToken - prefix.unicodeScalars.count))
            var found: Int32? = nil
            var candidate = ""
            while start < end {
                candidate.removeAll(keepingCapacity: true)
                candidate += prefix
                candidate.unicodeScalars.append(contentsOf: word[start..<end])
                if let id = vocabulary[candidate] { found = id; break }
                end -= 1
            }
            guard let id = found else { ids.append(unknownID); return }
            pieces.append(id)
            start = end
        }
        ids.append(contentsOf: pieces)
    }
}
