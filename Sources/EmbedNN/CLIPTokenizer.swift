/// CLIP's byte-level BPE tokenizer as Hugging Face transformers 5's `CLIPTokenizer` (backed by
/// `tokenizers`) runs it, so a text query gets exactly the ids the model was trained and
/// checked with: added tokens matched first, then `CLIPNormalizer` (NFC, whitespace, lower
/// case), `CLIPPreTokenizer` (words, contractions, single digits, punctuation runs),
/// `ByteLevelBPE` per word with `</w>` ending it, and `<|startoftext|>` … `<|endoftext|>`
/// around the result.
///
/// Loaded from a CLIP model folder as Hugging Face ships one: tokenizer.json, or vocab.json +
/// merges.txt, with tokenizer_config.json and special_tokens_map.json naming the special
/// tokens (`CLIPSpecialTokens`). Like transformers, it takes only the vocabulary, merges and
/// added tokens from tokenizer.json and builds the rest of the pipeline itself.
///
/// Safe to share between threads: the only mutable state is the word cache, behind a lock.
public struct CLIPTokenizer: Sendable {
    /// Id put before the text (`<|startoftext|>`, 49406 in CLIP's vocabulary).
    public let startID: Int32
    /// Id put after the text (`<|endoftext|>`, 49407); truncation keeps it last, and CLIP's text
    /// tower pools the hidden state at its position.
    public let endID: Int32
    /// Id a batch pads with (the pad token of the folder; `<|endoftext|>` for OpenAI's CLIP).
    public let padID: Int32
    /// Number of distinct token ids — the vocabulary plus added tokens outside it — as Python's
    /// `len(tokenizer)`.
    public let vocabularySize: Int
    /// The largest id this tokenizer can emit: the text tower's embedding table must have a row
    /// for it.
    public let largestTokenID: Int32
    /// The literal tokens matched in the text before tokenisation, with their flags.
    public let addedTokens: [AddedToken]

    let bpe: ByteLevelBPE
    /// Matched in the raw text.
    let rawTokens: [AddedToken]
    /// Matched in normalised text; `content` is the normalised form.
    let normalizedTokens: [AddedToken]

    /// Loads the tokenizer of a CLIP model folder; errors name the file and the problem.
    public init(folder: String) throws(NNError) {
        let files = try CLIPTokenizerFiles(folder: folder)
        try self.init(files)
    }

    init(_ files: CLIPTokenizerFiles) throws(NNError) {
        let vocab = files.vocabulary
        let specials = files.specials
        var added: [AddedToken] = []
        let vocabCount = Int32(clamping: vocab.count)
        for t in specials.added {
            let id: Int32
            if let known = vocab[t.content] {
                id = known
            } else {
                // As `tokenizers` numbers a new token: after the vocabulary, or after the last added one.
                id = added.map(\.id).max().map { $0 >= vocabCount ? $0 + 1 : vocabCount } ?? vocabCount
            }
            added.append(AddedToken(content: Array(t.content.unicodeScalars), id: id, normalized: t.normalized,
                                    lstrip: t.lstrip, rstrip: t.rstrip))
        }
        func tokenID(_ content: String, _ role: String) throws(NNError) -> Int32 {
            if let t = added.last(where: { String(String.UnicodeScalarView($0.content)) == content }) { return t.id }
            if let id = vocab[content] { return id }
            throw NNError.file(files.specialsSource, "the \(role) token '\(content)' is not in the vocabulary")
        }
        startID = try tokenID(specials.bos, "start (bos)")
        endID = try tokenID(specials.eos, "end (eos)")
        padID = try tokenID(specials.pad, "padding")
        addedTokens = added
        rawTokens = added.filter { !$0.normalized }
        normalizedTokens = added.filter(\.normalized).map { t in
            var n: [Unicode.Scalar] = []
            CLIPNormalizer.normalize(t.content[...], into: &n)
            return AddedToken(content: n, id: t.id, normalized: true, lstrip: t.lstrip, rstrip: t.rstrip)
        }
        vocabularySize = vocab.count + added.filter { vocab[String(String.UnicodeScalarView($0.content))] == nil }.count
        largestTokenID = max(vocab.values.max() ?? 0, added.map(\.id).max() ?? 0)

        var symbols = [Int32](repeating: -1, count: 512)
        for b in 0..<256 {
            let c = String(Character(ByteLevelAlphabet.scalar(UInt8(b))))
            symbols[b] = vocab[c] ?? -1
            symbols[256 + b] = vocab[c + "</w>"] ?? -1
        }
        let unknownID = vocab[specials.unk]
        if unknownID == nil, let b = symbols.firstIndex(of: -1) {
            throw NNError.file(files.vocabularySource,
                               "the vocabulary has no symbol for byte \(b % 256)\(b >= 256 ? " ending a word" : "") and no unknown token ('\(specials.unk)')")
        }
        bpe = ByteLevelBPE(symbolIDs: symbols, unknownID: unknownID, merges: files.merges, cache: BPEWordCache())
    }

    /// The token ids of `text` without the start and end tokens, untruncated.
    public func contentIDs(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        var normalized: [Unicode.Scalar] = []
        var bytes: [UInt8] = []
        var raw: [Unicode.Scalar] = []
        raw.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars { raw.append(c) }
        var segments = AddedTokenSplitter(raw[...], rawTokens)
        while let segment = segments.next() {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let s):
                normalized.removeAll(keepingCapacity: true)
                CLIPNormalizer.normalize(s, into: &normalized)
                var pieces = AddedTokenSplitter(normalized[...], normalizedTokens)
                while let piece = pieces.next() {
                    switch piece {
                    case .token(let id):
                        ids.append(id)
                    case .text(let t):
                        var words = CLIPPreTokenizer.Words(t)
                        while let word = words.next() {
                            bytes.removeAll(keepingCapacity: true)
                            for c in normalized[word] {
                                if c.value < 0x80 { bytes.append(UInt8(c.value)) } else { UTF8.encode(c) { bytes.append($0) } }
                            }
                            bpe.encode(bytes, into: &ids)
                        }
                    }
                }
            }
        }
        return ids
    }

    /// The model input for `text`: start token, content, end token, at most `maxLength` ids in
    /// all (the content is cut, the end token stays last, as `tokenizer(text, truncation=True,
    /// max_length=maxLength)`). `tokens` counts the untruncated sequence with both special
    /// tokens, so the caller can tell that (and how much) text was cut. A `maxLength` below 2
    /// gives the two special tokens alone (transformers then skips truncation altogether).
    public func encode(_ text: String, maxLength: Int) -> (ids: [Int32], tokens: Int) {
        let content = contentIDs(text)
        let room = max(0, maxLength - 2)
        var ids: [Int32] = []
        ids.reserveCapacity(min(content.count, room) + 2)
        ids.append(startID)
        ids.append(contentsOf: content.prefix(room))
        ids.append(endID)
        return (ids, content.count + 2)
    }
}

/// Splits text at leftmost-longest matches of added tokens as `tokenizers`' added vocabulary
/// does: lstrip takes the whitespace before a match (not past the previous match), rstrip the
/// whitespace after it.
struct AddedTokenSplitter {
    enum Segment {
        case text(ArraySlice<Unicode.Scalar>)
        case token(Int32)
    }

    private let s: ArraySlice<Unicode.Scalar>
    private let tokens: [AddedToken]
    private var textStart: Int
    private var i: Int
    private var pending: Int32? = nil
    /// ASCII scalars that start a token (bits 0–127); most text has none of them, so the scan
    /// skips a scalar with one test.
    private var asciiFirst: (UInt64, UInt64) = (0, 0)
    private var nonASCIIFirst = false

    init(_ s: ArraySlice<Unicode.Scalar>, _ tokens: [AddedToken]) {
        self.s = s
        self.tokens = tokens
        textStart = s.startIndex
        i = tokens.isEmpty ? s.endIndex : s.startIndex
        for t in tokens {
            guard let v = t.content.first?.value else { continue }
            if v < 64 { asciiFirst.0 |= 1 << UInt64(v) } else if v < 128 { asciiFirst.1 |= 1 << UInt64(v - 64) } else { nonASCIIFirst = true }
        }
    }

    @inline(__always) private func mayStartToken(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 64 { return asciiFirst.0 & (1 << UInt64(v)) != 0 }
        if v < 128 { return asciiFirst.1 & (1 << UInt64(v - 64)) != 0 }
        return nonASCIIFirst
    }

    mutating func next() -> Segment? {
        if let id = pending {
            pending = nil
            return .token(id)
        }
        while i < s.endIndex {
            let c = s[i]
            guard mayStartToken(c) else { i += 1; continue }
            var best: AddedToken? = nil
            for t in tokens where t.content.first == c && t.content.count > (best?.content.count ?? 0)
                && t.content.count <= s.endIndex - i && s[i..<(i + t.content.count)].elementsEqual(t.content) {
                best = t
            }
            guard let token = best else { i += 1; continue }
            var start = i
            var end = i + token.content.count
            if token.lstrip {
                while start > textStart && CLIPNormalizer.isWhitespace(s[start - 1]) { start -= 1 }
            }
            if token.rstrip {
                while end < s.endIndex && CLIPNormalizer.isWhitespace(s[end]) { end += 1 }
            }
            let before = textStart..<start
            textStart = end
            i = end
            if before.isEmpty { return .token(token.id) }
            pending = token.id
            return .text(s[before])
        }
        guard textStart < s.endIndex else { return nil }
        defer { textStart = s.endIndex }
        return .text(s[textStart...])
    }
}
