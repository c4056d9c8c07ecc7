import EmbedJSON
@testable import EmbedNN
import EmbedSys
import Testing

/// CLIP's tokenizer against Hugging Face transformers 5 (the reference) and open_clip, on the
/// real vocabulary (tools/make-golden-clip-tokens.py).
struct CLIPTokenizerTests {
    /// Inputs on which open_clip's SimpleTokenizer gives other ids than Hugging Face, and why.
    /// Exactly these may differ: a new difference fails the test, and so does a listed one that
    /// went away.
    static let openCLIPDifferences: [String: String] = [
        "fortune-80": "ftfy removes the backspaces (control characters)",
        "fortune-86": "ftfy removes the backspaces (control characters)",
        "control": "ftfy removes control characters",
        "terminal-escape": "ftfy removes the ANSI escape sequences",
        "zero-width": "ftfy removes the byte-order mark U+FEFF",
        "nel": "ftfy reads the C1 control U+0085 as Windows-1252 '…'; Hugging Face's \\s makes it a space",
        "apostrophe-curly": "ftfy straightens curly quotes, so ’s becomes the contraction 's",
        "quotes-smart": "ftfy straightens curly quotes",
        "ligatures": "ftfy expands the ﬁ ﬂ ﬀ ﬃ ﬄ ligatures",
        "titlecase": "ftfy expands the ǅ ǈ ǋ digraphs and ŉ",
        "fullwidth": "ftfy turns fullwidth letters and digits into ASCII",
        "mojibake": "ftfy repairs UTF-8 read as Windows-1252",
        "info-separators": "Python's str.split treats U+001C–U+001F as whitespace; Oniguruma's \\s does not",
        "greek-sigma": "Python's str.lower gives a final ς; tokenizers lower-cases one character at a time (σ)",
        "unicode-new-composite": "ftfy's NFC (Python, Unicode 14) composes scripts newer than tokenizers' NFC (Unicode 9)",
        "unicode-new-mark": "ftfy's NFC (Python, Unicode 14) reorders marks newer than tokenizers' NFC (Unicode 9)",
        "html": "open_clip unescapes HTML entities (twice)",
        "html-double": "open_clip unescapes HTML entities (twice)",
        "special-eot": "open_clip's special tokens are <start_of_text>/<end_of_text>, not <|…|>",
        "special-sot": "open_clip's special tokens are <start_of_text>/<end_of_text>, not <|…|>",
        "special-inside": "open_clip's special tokens are <start_of_text>/<end_of_text>, not <|…|>",
        "special-upper": "Hugging Face matches <|startoftext|> after lower-casing; open_clip has no such token",
        "special-upper-punct": "Hugging Face ends a word at <|endoftext|> (its split regex); open_clip has no such token",
        "special-punct": "open_clip's special tokens are <start_of_text>/<end_of_text>, not <|…|>",
        "special-spaced": "open_clip's special tokens are <start_of_text>/<end_of_text>, not <|…|>",
        "special-twice": "open_clip's special tokens are <start_of_text>/<end_of_text>, not <|…|>",
        "special-nbsp": "Hugging Face matches <|startoftext|> after normalisation; open_clip has no such token",
        "special-compose": "Hugging Face matches <|endoftext|> before NFC; open_clip has no such token",
        "special-open-clip": "open_clip's own special-token names (matched case-insensitively)",
    ]

    @Test func corpusIsLargeAndVaried() {
        let cases = CLIPFixtures.cases
        #expect(cases.count >= 300)
        #expect(cases.contains { $0.label == "nonstarter-decomposition" })
        #expect(cases.contains { $0.hf.count > 300 }, "no input of several hundred tokens")
        #expect(cases.contains { $0.text.isEmpty })
    }

    @Test func idsMatchHuggingFace() {
        let tok = CLIPFixtures.tokenizer
        var mismatches = 0
        for c in CLIPFixtures.cases {
            let content = tok.contentIDs(c.text)
            let (ids, tokens) = tok.encode(c.text, maxLength: 77)
            if [tok.startID] + content + [tok.endID] != c.hf || ids != c.hf77 || tokens != c.hf.count {
                mismatches += 1
                Issue.record("""
                    \(c.label) \(String(reflecting: String(c.text.prefix(60)))):
                     got  \(content.prefix(30)) (\(tokens) tokens), truncated \(ids.prefix(30))
                     want \(c.hf.dropFirst().prefix(30)) (\(c.hf.count) tokens), truncated \(c.hf77.prefix(30))
                    """)
            }
        }
        #expect(mismatches == 0)
    }

    @Test func openCLIPDiffersOnlyWhereListed() {
        let tok = CLIPFixtures.tokenizer
        var differing: Set<String> = []
        for c in CLIPFixtures.cases {
            if tok.encode(c.text, maxLength: 77).ids != c.openCLIP { differing.insert(c.label) }
        }
        let listed = Set(Self.openCLIPDifferences.keys)
        #expect(differing.subtracting(listed).sorted() == [], "new differences from open_clip")
        #expect(listed.subtracting(differing).sorted() == [], "listed differences from open_clip that went away")
    }

    @Test func specialTokensAndSizes() {
        let tok = CLIPFixtures.tokenizer
        #expect(tok.startID == 49406)
        #expect(tok.endID == 49407)
        #expect(tok.padID == 49407)
        #expect(tok.vocabularySize == 49408)
        #expect(tok.largestTokenID == 49407)
        // openai/clip-vit-base-patch32's files: bos matched after normalisation, eos as written.
        let flags = Dictionary(uniqueKeysWithValues: tok.addedTokens.map { (String(String.UnicodeScalarView($0.content)), $0.normalized) })
        #expect(flags == ["<|startoftext|>": true, "<|endoftext|>": false])
    }

    @Test func truncationKeepsTheEndToken() {
        let tok = CLIPFixtures.tokenizer
        let text = String(repeating: "word ", count: 200)
        let (ids, tokens) = tok.encode(text, maxLength: 77)
        #expect(ids.count == 77)
        #expect(ids.first == tok.startID && ids.last == tok.endID)
        #expect(tokens == 202)
        #expect(tok.encode(text, maxLength: 10).ids.count == 10)
        #expect(tok.encode(text, maxLength: 2).ids == [tok.startID, tok.endID])
        #expect(tok.encode("", maxLength: 77) == ([tok.startID, tok.endID], 2))
    }

    /// A folder with tokenizer.json (as Hugging Face saves it, merges in both formats) gives the
    /// same ids as vocab.json + merges.txt; tokenizer.json wins when both are there.
    @Test(arguments: [false, true])
    func tokenizerJSONGivesTheSameIDs(mergesAsStrings: Bool) throws {
        let d = CLIPFixtures.folder("json", copying: ["tokenizer_config.json", "special_tokens_map.json"])
        CLIPFixtures.write(d + "/tokenizer.json", CLIPFixtures.tokenizerJSON(mergesAsStrings: mergesAsStrings))
        CLIPFixtures.write(d + "/vocab.json", "not even JSON")  // ignored
        let tok = try CLIPTokenizer(folder: d)
        #expect(tok.vocabularySize == 49408 && tok.startID == 49406 && tok.endID == 49407)
        for c in CLIPFixtures.cases {
            #expect(tok.encode(c.text, maxLength: 77).ids == c.hf77, "\(c.label)")
            #expect(tok.encode(c.text, maxLength: 77).tokens == c.hf.count, "\(c.label)")
        }
    }

    /// tokenizer_config.json / special_tokens_map.json variants: which literal tokens are
    /// matched (and how) follows transformers' rules (`CLIPSpecialTokens`).
    @Test func specialTokenConfigurationsMatchHuggingFace() throws {
        for v in CLIPFixtures.jsonLines("variants.jsonl") {
            let name = v["name"]!.string!
            let d = CLIPFixtures.folder("variant-\(name)", copying: ["vocab.json", "merges.txt"])
            CLIPFixtures.write(d + "/tokenizer_config.json", JSONWriter.compact(v["tokenizer_config"]!))
            if let map = v["special_tokens_map"], !map.isNull {
                CLIPFixtures.write(d + "/special_tokens_map.json", JSONWriter.compact(map))
            }
            let tok = try CLIPTokenizer(folder: d)
            #expect(Int(tok.padID) == v["pad_id"]!.int!, "\(name): pad id")
            #expect(tok.vocabularySize == v["size"]!.int!, "\(name): size")
            for c in v["cases"]!.array! {
                let text = c["text"]!.string!
                #expect(tok.encode(text, maxLength: 77).ids == CLIPFixtures.ids(c["hf"]), "\(name): \(String(reflecting: text))")
            }
        }
    }

    /// NFC as tokenizers computes it (Unicode 9): characters it does not know yet stay as they
    /// are, and class-0 characters that decompose into marks are ordered right.
    @Test func nfcMatchesTokenizers() {
        var mismatches = 0
        let probes = CLIPFixtures.jsonLines("nfc.jsonl")
        #expect(probes.count > 4000)
        for p in probes {
            let s = Array(p["s"]!.string!.unicodeScalars)
            let want = Array(p["nfc"]!.string!.unicodeScalars)
            let got = CLIPNormalizer.nfc(s[...])
            if got != want {
                mismatches += 1
                Issue.record("NFC of \(s.map { String($0.value, radix: 16) }): got \(got.map { String($0.value, radix: 16) }), want \(want.map { String($0.value, radix: 16) })")
            }
        }
        #expect(mismatches == 0)
    }

    /// The compact and the queued BPE merge orders agree (the queued one is the reference's).
    @Test func compactAndQueuedMergesAgree() {
        let bpe = CLIPFixtures.tokenizer.bpe
        var rng = SplitMix64(seed: 20)
        let alphabets: [[UInt8]] = [Array("abcdefghijklmnopqrstuvwxyz".utf8), Array("aeiou".utf8), Array("ab".utf8),
                                    Array("the quick brown fox".utf8.filter { $0 != 32 }), Array(0...255)]
        for _ in 0..<3000 {
            let alphabet = alphabets[Int(rng.next() % UInt64(alphabets.count))]
            let n = 1 + Int(rng.next() % UInt64(ByteLevelBPE.compactLimit))
            let word = (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            var compact: [Int32] = []
            var queued: [Int32] = []
            word.withUnsafeBufferPointer {
                bpe.encodeCompact($0, into: &compact)
                bpe.encodeQueued($0, into: &queued)
            }
            #expect(compact == queued, "\(word)")
        }
    }

    @Test func cacheKeepsResultsAndStaysBounded() {
        let tok = CLIPFixtures.tokenizer
        let first = tok.contentIDs("Cached words are cached, cached again")
        #expect(tok.contentIDs("Cached words are cached, cached again") == first)
        let cache = BPEWordCache(capacity: 3)
        for w in ["a", "b", "c", "d", "e"] {
            Array(w.utf8).withUnsafeBufferPointer { cache.insert($0, hash: BPEWordCache.hash($0), ids: [1, 2]) }
        }
        #expect(cache.count == 3)
        var ids: [Int32] = []
        #expect(Array("a".utf8).withUnsafeBufferPointer { cache.lookup($0, hash: BPEWordCache.hash($0), into: &ids) })
        #expect(ids == [1, 2])
        #expect(!Array("e".utf8).withUnsafeBufferPointer { cache.lookup($0, hash: BPEWordCache.hash($0), into: &ids) })
        // A colliding hash with other bytes is a miss, not a wrong answer.
        let hashOfA = Array("a".utf8).withUnsafeBufferPointer { BPEWordCache.hash($0) }
        #expect(!Array("b".utf8).withUnsafeBufferPointer { cache.lookup($0, hash: hashOfA, into: &ids) })
    }

    @Test func threadsShareOneTokenizer() async {
        let tok = CLIPFixtures.tokenizer
        let cases = CLIPFixtures.cases
        await withTaskGroup(of: Int.self) { group in
            for t in 0..<4 {
                group.addTask {
                    var bad = 0
                    for (i, c) in cases.enumerated() where i % 4 == t || i % 3 == 0 {
                        if tok.encode(c.text, maxLength: 77).ids != c.hf77 { bad += 1 }
                    }
                    return bad
                }
            }
            var bad = 0
            for await b in group { bad += b }
            #expect(bad == 0)
        }
    }

    /// Hostile text: random bytes (invalid UTF-8 becomes U+FFFD), every kind of scalar, marks
    /// without a base, and a megabyte in one word and in many.
    @Test func anyInputIsTokenized() {
        let tok = CLIPFixtures.tokenizer
        var rng = SplitMix64(seed: 7)
        for _ in 0..<300 {
            let bytes = (0..<Int(rng.next() % 400)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let (ids, tokens) = tok.encode(String(decoding: bytes, as: UTF8.self), maxLength: 77)
            #expect(ids.count <= 77 && ids.count >= 2 && tokens >= ids.count)
            #expect(ids.allSatisfy { $0 >= 0 && $0 <= tok.largestTokenID })
        }
        var scalars = String.UnicodeScalarView()
        for _ in 0..<20_000 {
            if let s = Unicode.Scalar(UInt32(rng.next() % 0x110000)) { scalars.append(s) }
        }
        let wide = tok.encode(String(scalars), maxLength: 77)
        #expect(wide.ids.count == 77 && wide.tokens > 77)
        #expect(tok.encode(String(repeating: "\u{0301}\u{0323}\u{FFFD}", count: 1000), maxLength: 77).tokens > 77)
        #expect(tok.encode("\u{D7FF}\u{E000}\u{FFFF}\u{10FFFF}", maxLength: 77).tokens > 2)

        let oneWord = String(repeating: "abcdefghij", count: 100_000)  // 1 MB of letters: one word
        let (ids, tokens) = tok.encode(oneWord, maxLength: 77)
        #expect(ids.count == 77 && tokens > 10_000)
        let sentence = "The quick brown fox, 42! "
        let many = tok.encode(String(repeating: sentence, count: 40_000), maxLength: 77)  // 1 MB
        #expect(many.ids.count == 77 && many.tokens == 2 + 40_000 * tok.contentIDs(sentence).count)
    }

    // MARK: broken folders

    func expectFailure(_ folder: String, _ needles: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try CLIPTokenizer(folder: folder)
            Issue.record("loading \(folder) succeeded; expected an error containing \(needles)", sourceLocation: sourceLocation)
        } catch {
            for n in needles {
                #expect(error.message.contains(n), "error '\(error.message)' lacks '\(n)'", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func missingFiles() {
        let empty = CLIPFixtures.folder("empty", copying: [])
        expectFailure(empty, [empty, "no tokenizer"])
        let noMerges = CLIPFixtures.folder("nomerges", copying: ["vocab.json", "tokenizer_config.json"])
        expectFailure(noMerges, [noMerges + "/merges.txt", "missing file"])
        let noVocab = CLIPFixtures.folder("novocab", copying: ["merges.txt"])
        expectFailure(noVocab, [noVocab + "/vocab.json", "missing file"])
        expectFailure("/nonexistent/clip", ["/nonexistent/clip", "not a directory"])
    }

    @Test func malformedVocabulary() {
        let cases: [(String, String, [String])] = [
            ("notjson", #"{"a": 0,"#, ["invalid JSON"]),
            ("array", #"["a", "b"]"#, ["must be a JSON object"]),
            ("empty", "{}", ["is empty"]),
            ("stringid", #"{"a": "zero"}"#, ["token 'a'", "no valid id"]),
            ("negative", #"{"a": -1}"#, ["token 'a'", "no valid id"]),
            ("huge", #"{"a": 4294967296}"#, ["token 'a'", "no valid id"]),
            ("fraction", #"{"a": 1.5}"#, ["token 'a'", "no valid id"]),
        ]
        for (name, json, needles) in cases {
            let d = CLIPFixtures.folder("vocab-\(name)", copying: ["merges.txt"])
            CLIPFixtures.write(d + "/vocab.json", json)
            expectFailure(d, [d + "/vocab.json"] + needles)
        }
    }

    @Test func malformedMerges() {
        let cases: [(String, String, [String])] = [
            ("three", "#version: 0.2\ni n\na b c\n", ["line 3", "two tokens"]),
            ("blank", "#version: 0.2\ni n\n\nt h\n", ["line 3", "two tokens"]),
            ("unknown", "#version: 0.2\ni n\nq€ x\n", ["line 3", "'q€'", "not in the vocabulary"]),
            ("unmerged", "#version: 0.2\ni n\nĀ ā\n", ["line 3", "merged token 'Āā'", "not in the vocabulary"]),
        ]
        for (name, text, needles) in cases {
            let d = CLIPFixtures.folder("merges-\(name)", copying: ["vocab.json"])
            CLIPFixtures.write(d + "/merges.txt", text)
            expectFailure(d, [d + "/merges.txt"] + needles)
        }
    }

    @Test func malformedTokenizerJSON() {
        let full = CLIPFixtures.tokenizerJSON(mergesAsStrings: false)
        let cases: [(String, String, [String])] = [
            ("notjson", "{", ["invalid JSON"]),
            ("nomodel", #"{"version": "1.0"}"#, ["missing \"model\""]),
            ("wordpiece", full.replacingFirst(#""type":"BPE""#, #""type":"WordPiece""#), ["WordPiece", "not supported"]),
            ("normalizer", full.replacingFirst(#""type":"NFC""#, #""type":"NFKC""#), ["normalizer", "NFKC", "not CLIP's"]),
            ("pretokenizer", full.replacingFirst(#""type":"Split""#, #""type":"Whitespace""#), ["pre_tokenizer", "not CLIP's"]),
            ("suffix", full.replacingFirst(#""end_of_word_suffix":"</w>""#, #""end_of_word_suffix":"@@""#), ["end_of_word_suffix"]),
            ("merge3", full.replacingFirst(#"[["i","n"]"#, #"[["i","n","x"]"#), ["model.merges[0]"]),
            ("mergeunknown", full.replacingFirst(#"[["i","n"]"#, #"[["i","nope"]"#), ["model.merges[0]", "'nope'", "not in the vocabulary"]),
            ("vocabid", full.replacingFirst(#""!":0"#, #""!":-7"#), ["token '!'", "no valid id"]),
            ("addedid", full.replacingFirst(#""id":49406"#, #""id":-1"#), ["added_tokens", "valid id"]),
        ]
        for (name, json, needles) in cases {
            #expect(json != full || name == "notjson" || name == "nomodel", "\(name): the test's replacement did not apply")
            let d = CLIPFixtures.folder("json-\(name)", copying: ["tokenizer_config.json"])
            CLIPFixtures.write(d + "/tokenizer.json", json)
            expectFailure(d, [d + "/tokenizer.json"] + needles)
        }
    }

    @Test func malformedSpecialTokenFiles() {
        let cases: [(String, String, String, [String])] = [
            ("class", "tokenizer_config.json", #"{"tokenizer_class": "BertTokenizer"}"#, ["BertTokenizer", "not CLIPTokenizer"]),
            ("notjson", "tokenizer_config.json", "{", ["invalid JSON"]),
            ("notobject", "special_tokens_map.json", "[]", ["must be a JSON object"]),
            ("badtoken", "tokenizer_config.json", #"{"bos_token": 7}"#, ["bos_token", "string or an object"]),
            ("badflag", "tokenizer_config.json", #"{"eos_token": {"content": "<|endoftext|>", "normalized": "yes"}}"#, ["eos_token.normalized"]),
            ("singleword", "tokenizer_config.json",
             #"{"added_tokens_decoder": {"49407": {"content": "<|endoftext|>", "single_word": true, "special": true}}}"#,
             ["single_word", "not supported"]),
            ("badkey", "tokenizer_config.json", #"{"added_tokens_decoder": {"x": {"content": "a"}}}"#, ["added_tokens_decoder key 'x'"]),
            ("nobos", "tokenizer_config.json",
             #"{"tokenizer_class": "CLIPTokenizer", "bos_token": "<|nosuchtoken|>", "added_tokens_decoder": {}}"#, []),
        ]
        for (name, file, text, needles) in cases {
            let d = CLIPFixtures.folder("special-\(name)")
            CLIPFixtures.write(d + "/" + file, text)
            if name == "nobos" {
                // Not in the vocabulary: transformers adds it as a new token (id 49408), as here.
                let tok = try? CLIPTokenizer(folder: d)
                #expect(tok?.startID == 49408 && tok?.vocabularySize == 49409 && tok?.largestTokenID == 49408)
                continue
            }
            expectFailure(d, [d + "/" + file] + needles)
        }
    }

    @Test func missingByteSymbolsWithoutUnknownToken() {
        let d = CLIPFixtures.folder("bytes", copying: ["merges.txt"])
        CLIPFixtures.write(d + "/vocab.json", #"{"a": 0, "b": 1, "<|startoftext|>": 2, "<|endoftext|>": 3}"#)
        CLIPFixtures.write(d + "/merges.txt", "#version: 0.2\n")
        CLIPFixtures.write(d + "/tokenizer_config.json", #"{"unk_token": "<unk>"}"#)
        expectFailure(d, [d + "/vocab.json", "no symbol for byte", "'<unk>'"])
        // With an unknown token, bytes without a symbol become it, one per byte (not fused).
        CLIPFixtures.write(d + "/tokenizer_config.json", "{}")
        let tok = try? CLIPTokenizer(folder: d)
        #expect(tok?.encode("zz a", maxLength: 77).ids == [2, 3, 3, 3, 3])
    }
}

extension String {
    /// The string with the first occurrence of `target` replaced (unchanged when absent).
    fileprivate func replacingFirst(_ target: String, _ replacement: String) -> String {
        let me = Array(utf8), t = Array(target.utf8)
        guard !t.isEmpty, me.count >= t.count else { return self }
        for i in 0...(me.count - t.count) where me[i..<(i + t.count)].elementsEqual(t) {
            return String(decoding: me[..<i] + Array(replacement.utf8) + me[(i + t.count)...], as: UTF8.self)
        }
        return self
    }
}

