import EmbedJSON

/// Which literal tokens transformers 5's `CLIPTokenizer` matches in the text, with which flags,
/// and the ids of its start, end, padding and unknown tokens, worked out from a model folder's
/// tokenizer_config.json, special_tokens_map.json and tokenizer.json the way `from_pretrained`
/// does. The rules are odd enough to write down:
///
/// - The named tokens are bos, eos, unk, sep, pad, cls, mask; CLIP defaults the first four
///   (`<|startoftext|>`, then `<|endoftext|>` for eos, unk and pad). A value is a string or an
///   AddedToken object ({"content", "normalized", "lstrip", "rstrip", "single_word", "special"}).
/// - tokenizer_config.json's `added_tokens_decoder`, when present, lists the added tokens and
///   special_tokens_map.json is ignored; otherwise special_tokens_map.json's values replace the
///   config's, and tokenizer.json's `added_tokens` (if the folder has one) act as the decoder.
///   A named token whose content the decoder lists becomes that decoder entry.
/// - Added in order: the decoder's entries by id, then each named token (in the order above)
///   unless its content is in the decoder or an equal value was already taken (strings equal by
///   content, objects by every field, a string never equals an object), then the extra special
///   tokens. A string becomes a special token with `normalized` false; an object's `normalized`
///   defaults to the opposite of its `special`.
/// - When one content is added several times, the last one's flags hold.
///
/// So openai/clip-vit-base-patch32's files (bos and eos objects with `normalized: true`, pad the
/// string "<|endoftext|>") give "<|startoftext|>" matched after normalisation (so also written
/// "<|STARTOFTEXT|>") but "<|endoftext|>" only as written — and a pad token "!" (as some LAION
/// CLIP folders name it) makes every "!" in the text the added token 0.
struct CLIPSpecialTokens {
    /// A token as transformers holds it before adding it: a plain string or an AddedToken.
    enum Value: Equatable {
        case string(String)
        case token(content: String, normalized: Bool, lstrip: Bool, rstrip: Bool, special: Bool)

        var content: String {
            switch self {
            case .string(let s): return s
            case .token(let content, _, _, _, _): return content
            }
        }
    }

    /// The literal tokens, in the order added, each content once with its final flags.
    var added: [(content: String, normalized: Bool, lstrip: Bool, rstrip: Bool)] = []
    /// Contents of bos, eos, unk and pad.
    let bos: String
    let eos: String
    let unk: String
    let pad: String

    static let namedKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]
    static let clipDefaults = ["bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
                               "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>"]

    /// Parses a named-token value; `special` is what an object gets when it does not say
    /// (false from tokenizer_config.json, true from special_tokens_map.json). `single_word`
    /// (match only as a whole word) is refused: no CLIP folder sets it.
    static func value(_ json: JSONValue, special defaultSpecial: Bool, _ what: String, _ path: String) throws(NNError) -> Value {
        if let s = json.string { return .string(s) }
        guard json.members != nil, let content = json["content"]?.string else {
            throw NNError.file(path, "\(what) must be a string or an object with a \"content\" string")
        }
        func flag(_ key: String, _ fallback: Bool) throws(NNError) -> Bool {
            guard let v = json[key], !v.isNull else { return fallback }
            guard let b = v.bool else { throw NNError.file(path, "\(what).\(key) must be true or false") }
            return b
        }
        if try flag("single_word", false) { throw NNError.file(path, "\(what) '\(content)' sets single_word, which is not supported") }
        let special = try flag("special", defaultSpecial)
        return .token(content: content, normalized: try flag("normalized", !special), lstrip: try flag("lstrip", false),
                      rstrip: try flag("rstrip", false), special: special)
    }

    /// - Parameters:
    ///   - config: tokenizer_config.json (empty object when absent).
    ///   - specialMap: special_tokens_map.json, if present.
    ///   - fileAdded: tokenizer.json's `added_tokens` (id, value), if the folder has one.
    init(config: JSONValue, configPath: String, specialMap: JSONValue?, mapPath: String,
         fileAdded: [(Int, Value)]) throws(NNError) {
        var decoder: [(Int, Value)] = []
        let configDecoder = config["added_tokens_decoder"]
        if let configDecoder, !configDecoder.isNull {
            guard let members = configDecoder.members else {
                throw NNError.file(configPath, "added_tokens_decoder must be an object of id → token")
            }
            for (key, entry) in members {
                guard let id = Int(key), id >= 0 else { throw NNError.file(configPath, "added_tokens_decoder key '\(key)' is not an id") }
                decoder.append((id, try Self.value(entry, special: false, "added_tokens_decoder[\(key)]", configPath)))
            }
        } else {
            decoder = fileAdded
        }
        decoder.sort { $0.0 < $1.0 }
        let decoderByContent = Dictionary(decoder.map { ($0.1.content, $0.1) }, uniquingKeysWith: { _, last in last })

        var named: [String: Value] = [:]
        for key in Self.namedKeys {
            if let v = config[key], !v.isNull { named[key] = try Self.value(v, special: false, key, configPath) }
            if configDecoder == nil || configDecoder!.isNull, let v = specialMap?[key], !v.isNull {
                named[key] = try Self.value(v, special: true, key, mapPath)
            }
            if named[key] == nil, let d = Self.clipDefaults[key] { named[key] = .string(d) }
            if let v = named[key], let mapped = decoderByContent[v.content] { named[key] = mapped }
        }
        var extra: [Value] = []
        for (source, path, special) in [(config, configPath, false), (specialMap ?? .object([]), mapPath, true)] {
            for key in ["additional_special_tokens", "extra_special_tokens"] {
                guard let list = source[key], !list.isNull else { continue }
                guard let items = list.array else { throw NNError.file(path, "\(key) must be a list") }
                for item in items {
                    let v = try Self.value(item, special: special, key, path)
                    if !extra.contains(v) { extra.append(v) }
                }
            }
        }

        // The order TokenizersBackend.__init__ adds them in, skipping as it skips.
        var toAdd = decoder.map(\.1)
        let decoderContents = Set(decoder.map { $0.1.content })
        for v in Self.namedKeys.compactMap({ named[$0] }) + extra
        where !decoderContents.contains(v.content) && !toAdd.contains(v) {
            toAdd.append(v)
        }
        for v in toAdd {
            let flags: (content: String, normalized: Bool, lstrip: Bool, rstrip: Bool)
            switch v {
            case .string(let s): flags = (s, false, false, false)
            case .token(let content, let normalized, let lstrip, let rstrip, _): flags = (content, normalized, lstrip, rstrip)
            }
            guard !flags.content.isEmpty else { continue }
            if let i = added.firstIndex(where: { $0.content == flags.content }) { added[i] = flags } else { added.append(flags) }
        }
        bos = named["bos_token"]!.content
        eos = named["eos_token"]!.content
        unk = named["unk_token"]!.content
        pad = named["pad_token"]!.content
    }
}
