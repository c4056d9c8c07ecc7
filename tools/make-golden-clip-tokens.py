#!/usr/bin/env python3
"""Golden files for EmbedNN's CLIP tokenizer, made with the reference implementations.

    tools/make-golden-clip-tokens.py fixtures   # Tests/Fixtures/clip/vocab/ (vocab, merges, side files, skeleton)
    tools/make-golden-clip-tokens.py tables     # Sources/EmbedNN/CLIPCharacterTables.swift
    tools/make-golden-clip-tokens.py golden     # Tests/Fixtures/clip/tokens.jsonl
    tools/make-golden-clip-tokens.py bench      # Hugging Face's fast tokenizer on the corpus (tokens/s)

Run with the reference venv (/work/venv-ref/bin/python: transformers 5, tokenizers, and
open-clip-torch installed with --no-deps plus ftfy; torch for open_clip's tokenizer module).

`fixtures` writes the real CLIP vocabulary (tools/clip_vocab.py, from open-clip-torch's copy) as
`vocab.json` + `merges.txt`, with the `tokenizer_config.json` and `special_tokens_map.json` that
openai/clip-vit-base-patch32 ships, and `tokenizer.skeleton.json`: the tokenizer.json that
Hugging Face saves for that folder with model.vocab and model.merges emptied (the whole file is
3.6 MB; the Swift test fills both back in from vocab.json and merges.txt, in either merges format).

`tables` probes Hugging Face `tokenizers` code point by code point for the character classes of
CLIP's pipeline (Oniguruma's `\\s`, `\\p{L}`, `\\p{N}` as the Replace normalizer and the Split
pre-tokenizer see them) and the Unicode version of its NFC, so EmbedNN agrees with `tokenizers`
rather than with whichever Unicode version the Swift runtime ships. Its lower-case mapping is
checked to equal the one in BertCharacterTables.swift (the same Rust function).

`golden` runs the corpus (real sentences from Debian's fortunes, captions and the edge cases
below) through `AutoTokenizer` on the fixture folder (untruncated, and truncated at 77 as
`tokenizer(text, truncation=True, max_length=77)`) and through open_clip's `SimpleTokenizer`
(context 77, zero padding stripped), one JSON object per line:
  {"text": ..., "hf": [ids...], "hf77": [ids...], "open_clip": [ids...]}
and prints where open_clip and Hugging Face disagree. It also writes variants.jsonl (special-token
configurations: which literal tokens HF matches, pad id, size) and nfc.jsonl (tokenizers' NFC on
probe strings, for EmbedNN's NFC, which is Swift's with corrections).
"""
import argparse, html, importlib.util, json, os, random, re, shutil, sys, tempfile, time, unicodedata

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(REPO, 'Tests', 'Fixtures', 'clip')
VOCAB_DIR = os.path.join(FIX, 'vocab')
sys.path.insert(0, os.path.join(REPO, 'tools'))
import clip_vocab  # noqa: E402

MAX_LENGTH = 77
CLIP_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"

# tokenizer_config.json and special_tokens_map.json as openai/clip-vit-base-patch32 ships them.
TOKENIZER_CONFIG = {
    "unk_token": {"content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": True, "__type": "AddedToken"},
    "bos_token": {"content": "<|startoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": True, "__type": "AddedToken"},
    "eos_token": {"content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
                  "normalized": True, "__type": "AddedToken"},
    "pad_token": "<|endoftext|>",
    "add_prefix_space": False,
    "errors": "replace",
    "do_lower_case": True,
    "name_or_path": "./clip_ViT_B_32/",
    "model_max_length": 77,
    "special_tokens_map_file": "./special_tokens_map.json",
    "tokenizer_class": "CLIPTokenizer",
}
SPECIAL_TOKENS_MAP = {
    "bos_token": {"content": "<|startoftext|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": True},
    "eos_token": {"content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": True},
    "unk_token": {"content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": True},
    "pad_token": "<|endoftext|>",
}


def hf_tokenizer(folder=VOCAB_DIR):
    import transformers
    transformers.logging.set_verbosity_error()
    return transformers.AutoTokenizer.from_pretrained(folder)


def open_clip_tokenizer():
    """open_clip's SimpleTokenizer, loaded from its file (the package's __init__ needs torchvision)."""
    spec = importlib.util.find_spec('open_clip')
    path = os.path.join(list(spec.submodule_search_locations)[0], 'tokenizer.py')
    mspec = importlib.util.spec_from_file_location('open_clip_tokenizer', path)
    mod = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(mod)
    return mod.SimpleTokenizer(context_length=MAX_LENGTH)


# MARK: fixtures

def fixtures():
    clip_vocab.write(VOCAB_DIR)
    with open(os.path.join(VOCAB_DIR, 'tokenizer_config.json'), 'w', encoding='utf-8') as f:
        json.dump(TOKENIZER_CONFIG, f, indent=2)
        f.write('\n')
    with open(os.path.join(VOCAB_DIR, 'special_tokens_map.json'), 'w', encoding='utf-8') as f:
        json.dump(SPECIAL_TOKENS_MAP, f)
    tok = hf_tokenizer()
    with tempfile.TemporaryDirectory() as tmp:
        tok.save_pretrained(tmp)
        with open(os.path.join(tmp, 'tokenizer.json'), encoding='utf-8') as f:
            full = json.load(f)
    vocab, merges = clip_vocab.load()
    assert full['model']['vocab'] == vocab, 'saved tokenizer.json has another vocabulary'
    assert [tuple(m) for m in full['model']['merges']] == merges, 'saved tokenizer.json has other merges'
    full['model']['vocab'] = {}
    full['model']['merges'] = []
    with open(os.path.join(FIX, 'tokenizer.skeleton.json'), 'w', encoding='utf-8') as f:
        json.dump(full, f, indent=2, ensure_ascii=False)
        f.write('\n')
    print(f'wrote {VOCAB_DIR} and {FIX}/tokenizer.skeleton.json')


# MARK: tables

def ranges(points):
    out = []
    for c in points:
        if out and out[-1][1] + 1 == c: out[-1][1] = c
        else: out.append([c, c])
    return out


def swift_array(path, name):
    """The UInt32 array `name` of a generated Swift table file."""
    src = open(path, encoding='utf-8').read()
    m = re.search(r'static let ' + name + r': \[UInt32\] = \[([^\]]*)\]', src)
    return [int(x, 16) for x in m.group(1).replace(' ', '').split(',') if x]


def tables():
    from tokenizers import Regex, normalizers, pre_tokenizers
    space_norm = normalizers.Replace(Regex(r'\s+'), ' ')
    lower = normalizers.Lowercase()
    split = pre_tokenizers.Split(Regex(CLIP_SPLIT), behavior='removed', invert=True)
    nfd = normalizers.NFD()

    def pieces(s):
        return [p for p, _ in split.pre_tokenize_str(s)]

    space, letters, numbers, low = [], [], [], []
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000: continue
        ch = chr(c)
        if ch != ' ' and space_norm.normalize_str('a' + ch + 'a') == 'a a': space.append(c)
        p = pieces('a' + ch + 'a')
        if p == ['a' + ch + 'a']: letters.append(c)
        elif p == ['a', 'a']: assert c in space or ch == ' ', hex(c)
        elif p == ['a', ch, 'a']:
            if pieces(ch + ch) == [ch, ch]: numbers.append(c)
            else: assert pieces(ch + ch) == [ch + ch], hex(c)  # the "other" class: runs
        else: raise SystemExit(f'unexpected split of U+{c:04X}: {p}')
        l = lower.normalize_str(ch)
        if l != ch: low.append((c, [ord(x) for x in l]))
    split_space = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000 and pieces('a' + chr(c) + 'a') == ['a', 'a']]
    assert split_space == sorted(set(space) | {0x20}), 'the pre-tokenizer and the normalizer disagree on \\s'

    # Lower case: the same Rust char::to_lowercase BertNormalizer uses; EmbedNN reuses that table.
    bert = os.path.join(REPO, 'Sources', 'EmbedNN', 'BertCharacterTables.swift')
    single = swift_array(bert, 'lowercaseSingle')
    mine = [x for c, m in low if len(m) == 1 for x in (c, m[0])]
    assert mine == single, 'Lowercase differs from BertCharacterTables.lowercaseSingle: regenerate both'
    multi = [(c, m) for c, m in low if len(m) != 1]
    assert multi == [(0x130, [0x69, 0x307])], multi

    # The Unicode version of tokenizers' NFC (unicode-normalization-alignments): it knows the
    # combining class of U+08D4 (Unicode 9.0) but not that of U+0D3B (10.0).
    def knows_mark(c):
        return nfd.normalize_str(chr(c) + '\u0334') != chr(c) + '\u0334'
    assert knows_mark(0x08D4) and not knows_mark(0x0D3B), 'NFC Unicode version changed: update nfcUnicodeVersion'

    def emit(name, pts, doc):
        rs = ranges(pts)
        flat = ', '.join(f'0x{a:X}, 0x{b:X}' for a, b in rs)
        return f'    /// {doc} ({len(rs)} ranges, inclusive pairs).\n    static let {name}: [UInt32] = [{flat}]\n'

    src = ['// Generated by tools/make-golden-clip-tokens.py tables from Hugging Face tokenizers; do not edit.\n',
           '/// Character classes of CLIP\'s normalizer and pre-tokenizer as Hugging Face `tokenizers` (Oniguruma)\n',
           '/// sees them, probed code point by code point so EmbedNN\'s CLIP tokenizer matches it exactly.\n',
           '/// Lower case is BertCharacterTables\' mapping (the same Rust function; the generator checks).\n',
           'enum CLIPCharacterTables {\n',
           emit('whitespace', space, 'Oniguruma `\\s` other than U+0020: runs of it (with spaces) become one space'),
           emit('letters', letters, '`\\p{L}`: runs of these are one word'),
           emit('numbers', numbers, '`\\p{N}`: each is a word of its own'),
           '    /// Unicode version of the NFC in `tokenizers` (unicode-normalization-alignments): characters\n',
           '    /// assigned later are inert to it (combining class 0, no decomposition, no composition).\n',
           '    static let nfcUnicodeVersion = (major: 9, minor: 0)\n',
           '}\n']
    out = os.path.join(REPO, 'Sources', 'EmbedNN', 'CLIPCharacterTables.swift')
    with open(out, 'w', encoding='utf-8') as f: f.write(''.join(src))
    print(f'wrote {out}: space {len(space)}, letters {len(letters)}, numbers {len(numbers)}, lower {len(low)}')


# MARK: corpus

CAPTIONS = [
    'a photo of a cat.', 'a photo of a dog', 'A bad photo of the car.', 'itap of a cassette player',
    'a close-up photo of a red apple on a wooden table', 'a blurry photo of my friends at the beach',
    'a sketch of the Eiffel Tower at night', 'an origami crane.', 'a rendering of a 3D teapot',
    'a painting of Van Gogh\'s "Starry Night" in the style of Picasso',
    'two dogs playing in the snow', 'A man riding a wave on top of a surfboard.',
    'a plate of spaghetti & meatballs', 'the 2024 Olympic Games, 100m final',
    'a tattoo of a 🐉 on a shoulder', 'photo of a bird: Turdus merula (blackbird)',
    'a low resolution photo of the ship', 'a jpeg corrupted photo of a toy',
    'a black and white photo of a Ford Model-T', 'THE STREETS OF NEW YORK CITY AT DUSK',
]

EDGE = [
    ('empty', ''), ('space', ' '), ('spaces', '     '), ('whitespace-mix', ' \t\n\r\x0b\x0c '),
    ('newlines', '\n\n'), ('single-letter', 'a'), ('single-dot', '.'), ('single-digit', '7'),
    ('hello', 'Hello, world!'), ('upper', 'HELLO WORLD'),
    # contractions
    ('contractions', "It's I'm we're they've she'll he'd don't can't won't"),
    ('contractions-upper', "IT'S I'M WE'RE THEY'VE SHE'LL HE'D Y'ALL'D"),
    ('contractions-bare', "'s 't 're 've 'm 'll 'd"), ('contraction-start', "'steve 'tis 'rex 'llama"),
    ('apostrophes', "''s '''t rock'n'roll O'Neil's '!'s"), ('apostrophe-curly', 'it\u2019s don\u2019t \u2018quoted\u2019'),
    ('apostrophe-grave', 'don`t it\u00b4s'),
    # numbers
    ('numbers', '123 4.56 1,000,000 -42 +7 3.14159 1e-10 0xDEADBEEF'), ('date', '2024-01-15T10:30:00Z'),
    ('numbers-unicode', '½ ² ³ ① Ⅻ ٣ ९ ๓ 𝟙 ⁴'), ('money', '$100.00 €50 £20 ¥1000 ₹500'),
    # accents, NFC / NFD
    ('accents-nfc', unicodedata.normalize('NFC', 'Café au lait, naïve façade, résumé, Ångström, Øresund, Straße.')),
    ('accents-nfd', unicodedata.normalize('NFD', 'Café au lait, naïve façade, résumé, Ångström, Øresund, Straße.')),
    ('accents2-nfd', unicodedata.normalize('NFD', 'Ça va? Élève, crème brûlée, jalapeño, Zürich, São Paulo.')),
    ('combining-acute', 'e\u0301 vs é'), ('angstrom-sign', '\u212b \u2126 \u212a'),
    ('mark-order', 'a\u0301\u0323 q\u0307\u0323 o\u0308\u0304'), ('hangul-jamo', '\u1100\u1161\u11a8 \u1112\u1161\u11ab'),
    ('cjk-compat', '\uf900\uf901 \U0002f800'), ('zalgo', 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇'),
    ('leading-marks', '\u0300\u0301\u0302 leading marks'),
    # scripts
    ('chinese', '我喜欢自然语言处理。'), ('japanese', 'これは日本語の文です。漢字とかなが混ざっています。'),
    ('korean', '한국어 문장입니다.'), ('arabic', 'مرحبا بالعالم، هذه جملة عربية.'), ('hebrew', 'שלום עולם'),
    ('devanagari', 'नमस्ते दुनिया, यह एक वाक्य है।'), ('thai', 'สวัสดีชาวโลก'), ('russian', 'Привет, мир! Как дела?'),
    ('greek-sigma', 'ΣΊΣΥΦΟΣ ὈΔΥΣΣΕΎΣ ΟΔΟΣ σοφός'), ('greek-lower', 'ὀδυσσεύς'), ('turkish', 'İstanbul DİYARBAKIR ılık'),
    ('mixed-scripts', 'mixed中文English混合text'), ('math-bold', '\U0001d400\U0001d401\U0001d402 math bold'),
    ('titlecase', 'ǅungla ǈ ǋ ẞ ß ŉ ΐ'), ('math', '∑ x² ≤ ∞, ∀x∈ℝ: f(x) ≠ 0'),
    # emoji
    ('emoji', 'I love pizza 🍕🍕 and cats 😺!'), ('emoji-zwj', '👩\u200d👩\u200d👧\u200d👦 family 🧑\u200d💻 coder'),
    ('emoji-flags', 'flags 🇩🇪🇫🇷🇯🇵🏳️\u200d🌈'), ('emoji-skin', '👍🏽👋🏿🤝🏻'), ('emoji-keycap', '1️⃣ #️⃣ ❤️'),
    ('emoji-new', '🥰🥲🫠🫶🪿'),
    # ftfy's territory
    ('ligatures', 'ligatures: ﬁne ﬂow ﬀ ﬃ ﬄ'), ('fullwidth', 'ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３'),
    ('mojibake', 'CafÃ© â€œquotedâ€\x9d'), ('quotes-smart', 'quotes “smart” ‘single’ «guillemets» — dashes – …'),
    ('terminal-escape', 'plain \x1b[31mred\x1b[0m text'),
    # control characters and odd spaces
    ('control', 'control\x00chars\x01\x07 here\x7f'), ('info-separators', 'a\x1cb\x1dc\x1ed\x1fe'),
    ('nel', 'line\x85next'), ('tabs-newlines', 'tabs\tand\nnewlines\r\nmixed'),
    ('nbsp', 'nbsp\u00a0and\u2003em\u3000ideographic\u202fnarrow'), ('line-separators', 'a\u2028b\u2029c'),
    ('zero-width', 'zero\u200bwidth\u200cjoiner\u200dtest\u2060here\ufeff'), ('mongolian-vs', 'a\u180eb'),
    ('soft-hyphen', 'soft\u00adhyphen'), ('space-run', 'a \t \n \u00a0 \u3000 b'),
    ('replacement', 'replacement \ufffd char'), ('private-use', 'private \ue000\uf8ff'),
    ('unassigned', 'unassigned \u0378 \uffff \U000e0041 tags'), ('bidi', 'bidi \u202eevil\u202c text'),
    # Unicode newer than the tokenizers' NFC (9.0)
    ('unicode-new-composite', 'dives \U00011935\U00011930 kirat \U00016d67\U00016d67'),
    ('unicode-new-mark', 'a\u0d3b\u0301 e\u0301\u0d3b x\u07fd\u0323'),
    # class-0 characters that decompose into marks (Swift's NFC alone misorders the first three)
    ('nonstarter-decomposition', '\u0130\u0323\u0f75 \u0314\u0f81 \u04e7\u0307\u0f73 a\u0316\u0344'),
    # long
    ('long-word', 'x' * 150), ('long-word-1000', 'ab' * 500),
    ('supercali', 'supercalifragilisticexpialidocious antidisestablishmentarianism'),
    ('long-punct', '!?' * 100), ('url', 'https://example.com/a/very/long/path?query=string&x=1#frag me@example.org'),
    ('code', 'C++ std::vector<int> v{1,2,3}; // comment'), ('repeat', 'the ' * 100),
    # special-token text
    ('special-eot', '<|endoftext|>'), ('special-sot', '<|startoftext|>'), ('special-inside', 'a<|endoftext|>b<|startoftext|>c'),
    ('special-upper', '<|ENDOFTEXT|> <|STARTOFTEXT|>'), ('special-upper-punct', '<|ENDOFTEXT|>! <|STARTOFTEXT|>!'),
    ('special-punct', '<|endoftext|>!x !<|endoftext|> x!<|startoftext|>!'),
    ('special-broken', '<|endoftext| <|end of text|> <|endoftext |>'),
    ('special-spaced', '  <|startoftext|>  <|endoftext|>  '), ('special-twice', '<|startoftext|><|endoftext|><|endoftext|>'),
    ('special-nbsp', '<|end\u00a0oftext|> <|startoftext|>\u00a0x'), ('special-compose', '<|endoftext|>\u0338 <|startoftext|>\u0338'),
    ('special-open-clip', '<start_of_text> <end_of_text> <START_OF_TEXT>'),
    # HTML
    ('html', 'Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt; &quot;q&quot; &#39;s &#x27;t &copy; 2024'),
    ('html-double', 'fish &amp;amp; chips &ampx &nbsp;x'),
]


def fortunes(rnd):
    base = '/usr/share/games/fortunes'
    out = []
    for name in sorted(os.listdir(base)):
        p = os.path.join(base, name)
        if '.' in name or not os.path.isfile(p): continue
        with open(p, encoding='utf-8', errors='replace') as f:
            for chunk in f.read().split('\n%\n'):
                chunk = chunk.strip()
                if 10 <= len(chunk) <= 300: out.append(chunk)
    rnd.shuffle(out)
    return out


def corpus():
    """(label, text) pairs: 230 fortunes, captions, the edge cases, long texts."""
    rnd = random.Random(20)
    f = fortunes(rnd)
    items = [(f'fortune-{i}', t) for i, t in enumerate(f[:230])]
    items += [(f'caption-{i}', t) for i, t in enumerate(CAPTIONS)]
    items += EDGE
    long_text = ' '.join(f[230:260])
    items += [('long-text', long_text), ('long-text-upper', long_text.upper()),
              ('long-text-nfd', unicodedata.normalize('NFD', 'Crème brûlée à la française. ' * 40))]
    labels = [l for l, _ in items]
    assert len(labels) == len(set(labels)), 'duplicate labels'
    return items


# MARK: golden

def decoder_entry(content, normalized, lstrip=False, rstrip=False):
    return {"content": content, "lstrip": lstrip, "normalized": normalized, "rstrip": rstrip, "single_word": False, "special": True}


VARIANTS = [
    ('strings', {"tokenizer_class": "CLIPTokenizer", "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
                 "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}, None),
    ('decoder', {"tokenizer_class": "CLIPTokenizer", "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
                 "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
                 "added_tokens_decoder": {"49406": decoder_entry("<|startoftext|>", True),
                                          "49407": decoder_entry("<|endoftext|>", True)}}, None),
    ('pad-bang', {"tokenizer_class": "CLIPTokenizer", "pad_token": "!"}, None),
    ('strip', {"tokenizer_class": "CLIPTokenizer",
               "added_tokens_decoder": {"49406": decoder_entry("<|startoftext|>", True, rstrip=True),
                                        "49407": decoder_entry("<|endoftext|>", False, lstrip=True, rstrip=True)}}, None),
    ('map-overrides', {"tokenizer_class": "CLIPTokenizer", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>"},
     {"eos_token": {"content": "<|endoftext|>", "normalized": True}, "pad_token": {"content": "<|endoftext|>", "normalized": True},
      "unk_token": {"content": "<|endoftext|>", "normalized": True}}),
    ('eos-object-pad-object', {"tokenizer_class": "CLIPTokenizer",
                               "eos_token": {"content": "<|endoftext|>", "normalized": False, "__type": "AddedToken"},
                               "unk_token": {"content": "<|endoftext|>", "normalized": True, "__type": "AddedToken"},
                               "pad_token": {"content": "<|endoftext|>", "normalized": False, "__type": "AddedToken"}}, None),
    ('new-pad-token', {"tokenizer_class": "CLIPTokenizer", "pad_token": "<pad>"}, None),
    ('extra-tokens', {"tokenizer_class": "CLIPTokenizer", "additional_special_tokens": [
        "<extra>", {"content": "Hello", "normalized": True, "__type": "AddedToken"}, "world"]}, None),
]
VARIANT_TEXTS = ['<|STARTOFTEXT|> hi', '<|ENDOFTEXT|>!', 'x <|endoftext|> y', 'hello! world!!', ' \t<|endoftext|>\u00a0 z',
                 '<|startoftext|>  a  <|startoftext|>', 'a <pad> b<pad>', '<|endoftext|><|ENDOFTEXT|>',
                 '<extra> hello HELLO Hello world World <EXTRA>']


def variant_folder(tmp, name, config, smap):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    for f in ['vocab.json', 'merges.txt']: os.symlink(os.path.join(VOCAB_DIR, f), os.path.join(d, f))
    with open(os.path.join(d, 'tokenizer_config.json'), 'w') as f: json.dump(config, f)
    if smap is not None:
        with open(os.path.join(d, 'special_tokens_map.json'), 'w') as f: json.dump(smap, f)
    return d


def nfc_cases():
    """NFC probes: every character tokenizers' NFC (Unicode 9) leaves alone although Python's
    (14) does not, the four whose decomposition starts with a mark, and 800 others with a
    combining class or a canonical decomposition, each alone and next to marks."""
    from tokenizers import normalizers
    nfc, nfd = normalizers.NFC(), normalizers.NFD()
    rnd = random.Random(9)
    relevant, unknown = [], []
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000: continue
        ch = chr(c)
        d = unicodedata.decomposition(ch)
        if not unicodedata.combining(ch) and not (d and not d.startswith('<')): continue
        knows = nfd.normalize_str(ch) != ch or nfd.normalize_str(ch + '\u0334') != ch + '\u0334' \
            or nfd.normalize_str('\u0301' + ch) != '\u0301' + ch
        (relevant if knows else unknown).append(c)
    nonstarter = [0x0344, 0x0F73, 0x0F75, 0x0F81]
    chosen = unknown + nonstarter + rnd.sample([c for c in relevant if c not in nonstarter], 800)
    out = []
    for c in chosen:
        ch = chr(c)
        for s in [ch, 'a' + ch + '\u0316', 'a\u0301' + ch, ch + '\u0334', 'A\u0307\u0323' + ch]:
            out.append({'s': s, 'nfc': nfc.normalize_str(s)})
    return out


def open_clip_ids(oc, text):
    ids = oc([text])[0].tolist()
    while ids and ids[-1] == 0: ids.pop()
    return ids


def golden():
    tok = hf_tokenizer()
    oc = open_clip_tokenizer()
    items = corpus()
    texts = [t for _, t in items]
    full = tok(texts)['input_ids']
    cut = tok(texts, truncation=True, max_length=MAX_LENGTH)['input_ids']
    # The tokenizer.json path must give the same ids.
    with tempfile.TemporaryDirectory() as tmp:
        tok.save_pretrained(tmp)
        for f in ['tokenizer_config.json', 'special_tokens_map.json']: shutil.copy(os.path.join(VOCAB_DIR, f), tmp)
        assert hf_tokenizer(tmp)(texts)['input_ids'] == full, 'tokenizer.json folder disagrees with vocab.json + merges.txt'
    differ = []
    with open(os.path.join(FIX, 'tokens.jsonl'), 'w', encoding='utf-8') as f:
        for (label, text), h, h77 in zip(items, full, cut):
            o = open_clip_ids(oc, text)
            assert h77 == (h[:MAX_LENGTH - 1] + [h[-1]] if len(h) > MAX_LENGTH else h)
            f.write(json.dumps({'label': label, 'text': text, 'hf': h, 'hf77': h77, 'open_clip': o}, ensure_ascii=False) + '\n')
            if o != h77: differ.append((label, text, h77, o))
    with tempfile.TemporaryDirectory() as tmp, open(os.path.join(FIX, 'variants.jsonl'), 'w', encoding='utf-8') as f:
        for name, config, smap in VARIANTS:
            t = hf_tokenizer(variant_folder(tmp, name, config, smap))
            cases = [{'text': s, 'hf': t(s)['input_ids']} for s in VARIANT_TEXTS]
            f.write(json.dumps({'name': name, 'tokenizer_config': config, 'special_tokens_map': smap,
                                'pad_id': t.pad_token_id, 'size': len(t), 'cases': cases}, ensure_ascii=False) + '\n')
    probes = nfc_cases()
    with open(os.path.join(FIX, 'nfc.jsonl'), 'w', encoding='utf-8') as f:
        for p in probes: f.write(json.dumps(p, ensure_ascii=False) + '\n')
    print(f'{len(probes)} NFC probes')
    print(f'{len(items)} inputs; open_clip differs from Hugging Face (truncated at {MAX_LENGTH}) on {len(differ)}:')
    for label, text, h, o in differ:
        print(f'  {label}: {text[:60]!r}\n      hf  {h[:24]}\n      oc  {o[:24]}')


def bench():
    """Hugging Face's fast tokenizer on the corpus: tokens per second, one call per input."""
    t0 = time.perf_counter()
    hf_tokenizer()
    t1 = time.perf_counter()
    tok = hf_tokenizer()
    print(f'{"load (AutoTokenizer.from_pretrained), first / again":56s} {(t1 - t0) * 1e3:7.1f} / {(time.perf_counter() - t1) * 1e3:.1f} ms')
    t0 = time.perf_counter()
    tok('a photo of a cat sitting on a red sofa')
    print(f'{"first caption after loading":56s} {(time.perf_counter() - t0) * 1e6:7.2f} us')
    texts = [t for _, t in corpus()]
    backend = tok.backend_tokenizer
    total = sum(len(ids) for ids in tok(texts)['input_ids'])

    def run(label, fn, reps):
        fn()
        best = float('inf')
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(reps): fn()
            best = min(best, (time.perf_counter() - t0) / reps)
        print(f'{label:56s} {total / best / 1e6:6.2f} M tokens/s  {best / len(texts) * 1e6:7.2f} us/input')
    run('transformers tokenizer(text), one call per input', lambda: [tok(t) for t in texts], 3)
    run('tokenizers Tokenizer.encode(text), one call per input', lambda: [backend.encode(t) for t in texts], 3)
    run('tokenizers Tokenizer.encode_batch(all inputs)', lambda: backend.encode_batch(texts), 3)
    q = 'a photo of a cat sitting on a red sofa'
    for label, fn in [('one caption: transformers tokenizer(text)', lambda: tok(q)),
                      ('one caption: tokenizers Tokenizer.encode(text)', lambda: backend.encode(q))]:
        fn()
        best = float('inf')
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(2000): fn()
            best = min(best, (time.perf_counter() - t0) / 2000)
        print(f'{label:56s} {best * 1e6:7.2f} us/call')
    print(f'{len(texts)} inputs, {total} tokens (with start and end)')


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('what', choices=['fixtures', 'tables', 'golden', 'bench'])
    a = ap.parse_args()
    os.makedirs(FIX, exist_ok=True)
    {'fixtures': fixtures, 'tables': tables, 'golden': golden, 'bench': bench}[a.what]()
