#!/usr/bin/env python3
"""Golden files for the text plugin, made with the reference implementations.

    tools/make-golden-text.py golden  [--models DIR]   # token ids + vectors for both models
    tools/make-golden-text.py tables                   # Sources/EmbedNN/BertCharacterTables.swift

`golden` reads Tests/Fixtures/text/corpus.txt (one input per line, escapes: \\n \\t \\r \\\\ and
\\u{HEX}), runs Hugging Face `tokenizers` and sentence-transformers (PyTorch, fp32, CPU) on every
input and writes, per model, into Tests/Fixtures/text/:
  <model>.ids   one line per input: the token ids (decimal, space separated)
  <model>.long.ids  untruncated content ids of inputs over 2048 characters: index, then ids
  <model>.f32   little-endian float32 vectors, input after input (dimension from the model)
The corpus itself is made once by `corpus` (real sentences from Debian's fortunes + edge cases).

`tables` probes the reference BertNormalizer/BertPreTokenizer code point by code point and writes
the character classes EmbedNN's BERT tokenizer uses (control characters removed, whitespace,
punctuation, CJK, non-spacing marks, lower-case mapping), so our tokenizer agrees with
`tokenizers` exactly instead of with whichever Unicode version the Swift runtime ships.

Needs a venv with torch (CPU), transformers, sentence-transformers, tokenizers (see bench/text).
"""
import argparse, os, random, struct, sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(REPO, 'Tests', 'Fixtures', 'text')
MODELS = ['all-MiniLM-L6-v2', 'all-mpnet-base-v2']


def escape(s):
    out = []
    for ch in s:
        c = ord(ch)
        if ch == '\\': out.append('\\\\')
        elif ch == '\n': out.append('\\n')
        elif ch == '\t': out.append('\\t')
        elif ch == '\r': out.append('\\r')
        elif c < 0x20 or c == 0x7f or 0x80 <= c < 0xa0 or c in (0x2028, 0x2029, 0x85): out.append('\\u{%x}' % c)
        else: out.append(ch)
    return ''.join(out)


def unescape(line):
    out, i = [], 0
    while i < len(line):
        ch = line[i]
        if ch != '\\':
            out.append(ch); i += 1; continue
        nxt = line[i + 1]
        if nxt == 'n': out.append('\n'); i += 2
        elif nxt == 't': out.append('\t'); i += 2
        elif nxt == 'r': out.append('\r'); i += 2
        elif nxt == '\\': out.append('\\'); i += 2
        elif nxt == 'u':
            j = line.index('}', i)
            out.append(chr(int(line[i + 3:j], 16))); i = j + 1
        else: raise ValueError('bad escape in corpus: ' + line)
    return ''.join(out)


def read_corpus():
    with open(os.path.join(FIX, 'corpus.txt'), encoding='utf-8') as f:
        return [unescape(l.rstrip('\n')) for l in f if not l.startswith('#')]


def make_corpus():
    """Real sentences from fortunes plus the edge cases the issue lists."""
    rnd = random.Random(6)
    fortunes = []
    base = '/usr/share/games/fortunes'
    for name in sorted(os.listdir(base)):
        p = os.path.join(base, name)
        if '.' in name or not os.path.isfile(p): continue
        with open(p, encoding='utf-8', errors='replace') as f:
            for chunk in f.read().split('\n%\n'):
                chunk = chunk.strip()
                if 10 <= len(chunk) <= 400: fortunes.append(chunk)
    rnd.shuffle(fortunes)
    real = fortunes[:170]
    long_text = ' '.join(fortunes[170:230])  # far over 256/384 tokens
    edge = [
        '', ' ', '   \t  \n ', '\n', 'a', '.', 'Hello, world!', 'HELLO WORLD', 'hello world',
        'Café au lait, naïve façade, résumé, Ångström, Øresund, Straße.',
        'Ça va? Élève, crème brûlée, jalapeño, Zürich, São Paulo.',
        'İstanbul and DİYARBAKIR', 'ΣΊΣΥΦΟΣ ὀδυσσεύς', 'Ⅻ ① ｆｕｌｌｗｉｄｔｈ ＡＢＣ',
        '我喜欢自然语言处理。', '東京は日本の首都です', '한국어 문장입니다.', 'これは日本語の文です。漢字とかなが混ざっています。',
        'مرحبا بالعالم، هذه جملة عربية.', 'שלום עולם', 'Привет, мир! Как дела?', 'नमस्ते दुनिया', 'สวัสดีชาวโลก',
        'I love pizza 🍕🍕 and cats 😺!', '👩‍👩‍👧‍👦 family emoji with ZWJ', '🥰🥲🫠 newer emoji', 'flags 🇩🇪🇫🇷',
        'zero\u200bwidth\u200cjoiner\u200dtest\u2060here\ufeff', 'soft\u00adhyphen', 'ligatures: ﬁne ﬂow ﬀ ﬃ Ꜳ',
        'control\x00chars\x01\x07\x1b here', 'tabs\tand\nnewlines\r\nmixed', 'nbsp\u00a0and\u2003em\u3000space',
        'replacement \ufffd char', 'e\u0301 combining acute vs é', 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇ text',
        'math: ∑ x² ≤ ∞, ∀x∈ℝ', 'quotes “smart” ‘single’ «guillemets» — dashes – …',
        'URLs https://example.com/path?q=1&x=y#frag and me@example.org', 'C++ std::vector<int> v{1,2,3};',
        '$100.00 €50 £20 ¥1000 ₹500', '2024-01-15T10:30:00Z 3.14159 1e-10 0xDEADBEEF',
        '[CLS] [SEP] [MASK] [PAD] [UNK] literal special tokens', '<s> </s> <mask> <pad> <unk> mpnet specials',
        'x' * 150, 'supercalifragilisticexpialidocious antidisestablishmentarianism',
        'a ' * 300, long_text, long_text.upper(),
        'The quick brown fox jumps over the lazy dog.', 'the the the the the', '!!!???...,,,;;;',
        '\u0300\u0301\u0302 leading marks', 'mixed 中文 and English 混合 text', 'ǅungla ǈ ǋ titlecase',
        'ﬀ Ǆ ǅ ß ẞ ŉ ΐ', '\U0001d400\U0001d401 math bold', 'privateuse \ue000\uf8ff', 'tag\U000e0041chars',
    ]
    inputs = real + edge
    with open(os.path.join(FIX, 'corpus.txt'), 'w', encoding='utf-8') as f:
        f.write('# text corpus for EmbedNN/TextPlugin tests; one input per line; escapes \\n \\t \\r \\\\ \\u{HEX}\n')
        for s in inputs: f.write(escape(s) + '\n')
    print(f'corpus: {len(inputs)} inputs')


def golden(models_dir):
    import numpy as np, torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(2)
    inputs = read_corpus()
    for name in MODELS:
        folder = os.path.join(models_dir, name)
        model = SentenceTransformer(folder, device='cpu')
        tok = model.tokenizer
        enc = tok(inputs, truncation=True, max_length=model.max_seq_length)['input_ids']
        with open(os.path.join(FIX, name + '.ids'), 'w') as f:
            for ids in enc: f.write(' '.join(map(str, ids)) + '\n')
        # Untruncated ids of the inputs longer than 2048 characters (the tokenizer works on such
        # texts in pieces; this checks the pieces join up): "index id id id ...".
        with open(os.path.join(FIX, name + '.long.ids'), 'w') as f:
            for i, text in enumerate(inputs):
                if len(text) > 2048:
                    full = tok(text, add_special_tokens=False, truncation=False)['input_ids']
                    f.write(str(i) + ' ' + ' '.join(map(str, full)) + '\n')
        vecs = model.encode(inputs, batch_size=16, convert_to_numpy=True, normalize_embeddings=False).astype('<f4')
        vecs.tofile(os.path.join(FIX, name + '.f32'))
        print(f'{name}: {len(inputs)} inputs, dim {vecs.shape[1]}, max_seq_length {model.max_seq_length}')


def ranges(points):
    out = []
    for c in points:
        if out and out[-1][1] + 1 == c: out[-1][1] = c
        else: out.append([c, c])
    return out


def tables():
    from tokenizers import normalizers, pre_tokenizers
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    cjk = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    removed, space, punct, chinese, marks, low = [], [], [], [], [], []
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000: continue
        ch = chr(c)
        r = clean.normalize_str('a' + ch + 'a')
        if r == 'aa': removed.append(c)
        elif r == 'a a' and ch != ' ': space.append(c)
        if cjk.normalize_str(ch) == ' ' + ch + ' ': chinese.append(c)
        if strip.normalize_str(ch) == '': marks.append(c)
        l = lower.normalize_str(ch)
        if l != ch: low.append((c, [ord(x) for x in l]))
        toks = [t for t, _ in pre.pre_tokenize_str('a' + ch + 'a')]
        if toks == ['a', ch, 'a']: punct.append(c)
    # whitespace splitting in the pre-tokenizer (after clean_text everything is ' ' anyway)
    pre_space = [c for c in range(0x110000) if not (0xD800 <= c < 0xE000)
                 and [t for t, _ in pre.pre_tokenize_str('a' + chr(c) + 'a')] == ['a', 'a']]

    def emit(name, pts, doc):
        rs = ranges(pts)
        flat = ', '.join(f'0x{a:X}, 0x{b:X}' for a, b in rs)
        return f'    /// {doc} ({len(rs)} ranges, inclusive pairs).\n    static let {name}: [UInt32] = [{flat}]\n'

    single = [(c, m[0]) for c, m in low if len(m) == 1]
    multi = [(c, m) for c, m in low if len(m) != 1]
    src = ['// Generated by tools/make-golden-text.py tables from Hugging Face tokenizers; do not edit.\n',
           '/// Character classes of Hugging Face `tokenizers`\' BertNormalizer and BertPreTokenizer,\n',
           '/// probed code point by code point so EmbedNN\'s tokenizer matches it exactly.\n',
           'enum BertCharacterTables {\n',
           emit('removed', removed, 'Removed by clean_text (NUL, U+FFFD, control/format/unassigned/private use)'),
           emit('whitespace', space, 'Turned into a space by clean_text'),
           emit('preTokenizerWhitespace', pre_space, 'Split on (and dropped) by the pre-tokenizer'),
           emit('punctuation', punct, 'Split off as its own token by the pre-tokenizer'),
           emit('chinese', chinese, 'Padded with spaces by handle_chinese_chars'),
           emit('nonspacingMarks', marks, 'Dropped after NFD by strip_accents'),
           '    /// Single-scalar lower-case mappings (code point, lower case), sorted.\n',
           '    static let lowercaseSingle: [UInt32] = [' + ', '.join(f'0x{a:X}, 0x{b:X}' for a, b in single) + ']\n',
           '    /// Multi-scalar lower-case mappings.\n',
           '    static let lowercaseMulti: [UInt32: [UInt32]] = [' + (', '.join(f'0x{a:X}: [' + ', '.join(f'0x{x:X}' for x in m) + ']' for a, m in multi) or ':') + ']\n',
           '}\n']
    out = os.path.join(REPO, 'Sources', 'EmbedNN', 'BertCharacterTables.swift')
    with open(out, 'w') as f: f.write(''.join(src))
    print(f'wrote {out}: removed {len(removed)}, space {len(space)}, punct {len(punct)}, cjk {len(chinese)}, marks {len(marks)}, lower {len(low)} ({len(multi)} multi)')


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('what', choices=['corpus', 'golden', 'tables'])
    ap.add_argument('--models', default=os.environ.get('EMBEDD_MODELS_DIR', os.path.join(REPO, 'models')))
    a = ap.parse_args()
    os.makedirs(FIX, exist_ok=True)
    {'corpus': make_corpus, 'golden': lambda: golden(a.models), 'tables': tables}[a.what]()
