"""CLIP's real BPE vocabulary in Hugging Face's layout, derived from open_clip's copy.

No CLIP model folder can be downloaded on the machines this project is built on, but PyPI
`open-clip-torch` ships the vocabulary OpenAI trained, `bpe_simple_vocab_16e6.txt.gz` (a merges
list). This module turns it into the `vocab.json` + `merges.txt` pair that
`openai/clip-vit-base-patch32` ships, the way open_clip's `SimpleTokenizer` builds its table:
the 256 byte symbols, the same with the `</w>` end-of-word marker, one token per merge (48 894
of them), then the start and end tokens (ids 49406 and 49407). Hugging Face names those
`<|startoftext|>` and `<|endoftext|>`; open_clip names them `<start_of_text>` and
`<end_of_text>`; the ids agree.

Used by tools/make-golden-clip.py and tools/make-golden-clip-tokens.py (stdlib only, so it
runs without torch; `gz_path()` finds the file in an installed open-clip-torch without
importing the package, whose `__init__` needs torchvision).
"""

import gzip
import importlib.util
import json
import os

MERGE_COUNT = 49152 - 256 - 2
START = "<|startoftext|>"
END = "<|endoftext|>"


def gz_path():
    """Path of bpe_simple_vocab_16e6.txt.gz inside the installed open-clip-torch."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("open-clip-torch is not installed (pip install --no-deps open-clip-torch ftfy)")
    path = os.path.join(list(spec.submodule_search_locations)[0], "bpe_simple_vocab_16e6.txt.gz")
    if not os.path.exists(path):
        raise SystemExit(f"{path}: missing from the installed open-clip-torch")
    return path


def bytes_to_unicode():
    """GPT-2's reversible byte → printable character table (CLIP uses the same)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def load(path=None):
    """(vocab: dict token → id, merges: list of (a, b)) from the gz file."""
    lines = gzip.open(path or gz_path()).read().decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1:MERGE_COUNT + 1]]
    symbols = list(bytes_to_unicode().values())
    tokens = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + [START, END]
    vocab = {t: i for i, t in enumerate(tokens)}
    assert len(vocab) == 49408, len(vocab)
    return vocab, merges


def write(folder, path=None):
    """Writes vocab.json and merges.txt (Hugging Face's CLIP layout) into `folder`."""
    vocab, merges = load(path)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(f"{a} {b}\n")


if __name__ == "__main__":
    import sys
    if len(sys.argv) != 2:
        raise SystemExit("usage: clip_vocab.py FOLDER   (writes FOLDER/vocab.json and FOLDER/merges.txt)")
    write(sys.argv[1])
