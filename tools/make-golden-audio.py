#!/usr/bin/env python3
"""End-to-end golden vectors for embedd's audio plugin (transformers + PyTorch, float32).

    /work/venv-ref/bin/python tools/make-golden-audio.py vectors MODELDIR OUT.json
        e.g. vectors models/whisper-base Tests/Fixtures/audio/whisper-base-vectors.json
             vectors Tests/Fixtures/audio/whisper-tiny Tests/Fixtures/audio/whisper-tiny-vectors.json
    /work/venv-ref/bin/python tools/make-golden-audio.py mel-filters
        # transformers' mel filters vs openai-whisper's mel_filters.npz (80 and 128 bins)

Inputs (real speech; Debian's pocketsphinx-testdata and codec2-examples):
  librivox-0870   /usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav
  librivox-0880   …-0880.wav
  cards-001       /usr/share/pocketsphinx/test/data/cards/001.wav
  big_dog-8k      /usr/share/codec2/raw/big_dog.raw (s16le, mono, 8000 Hz), resampled once with
                  `ffmpeg -f s16le -ar 8000 -ac 1 -i FILE -af aresample=resampler=soxr:precision=28
                  -ar 16000 -f f32le -` (the float32 samples FFmpeg writes are used as they are)
  long-concat     the samples of LONG_FILES, in that order, joined end to end with no gap (> 60 s:
                  three windows, the last one short)
The WAVs are 16-bit mono 16 kHz PCM; a sample s becomes float32(s / 32768).

For each input of N samples (seconds = N / 16000):
  windows   consecutive 30-s windows, no overlap: window k holds samples [480000·k,
            min(480000·(k+1), N)) and covers [30·k, min(30·(k+1), seconds)) seconds.
  features  `WhisperFeatureExtractor.from_pretrained(MODELDIR)(window, sampling_rate=16000,
            return_tensors="np").input_features` (float32 [1, n_mels, 3000]; the extractor pads the
            window to 30 s with zeros).
  encoder   `WhisperModel.from_pretrained(MODELDIR).encoder(features).last_hidden_state[0]`
            (float32, eval, no grad; one window per forward).
  pooling   the mean of the first ceil(window_samples × 50 / 16000) = ceil(window_samples / 320)
            encoder frames (at most 1500: the frames that cover real audio, not padding), then
            divided by its L2 norm (mean and norm in float64 from the float32 hidden states).
  vector    one window: its pooled vector. Several: the mean of the window vectors, divided by
            its L2 norm (float64). Vectors are written rounded to float32.

The JSON:
  {"format": 1, "model": basename(MODELDIR), "d_model", "n_mels", "sample_rate": 16000,
   "window_seconds": 30, "window_samples": 480000, "overlap": 0, "versions": {...},
   "pooling": "...", "long_files": [...],
   "inputs": [{"name", "sources": [{"path", "kind": "wav" | "s16le-8000-mono", "samples": count
               in the file at its own rate}], "resample": null | the ffmpeg command above,
               "samples": N at 16 kHz, "seconds": N / 16000, "sha256_f32le": of the float32
               16-kHz samples (so a test can check it rebuilt the same input),
               "vector": [d_model floats],
               "windows": [{"index", "start", "end" (seconds, float), "samples", "frames",
                            "vector": [d_model floats]}]}]}
The script also checks that a batch of all of long-concat's windows in one forward gives the
same hidden states as one window at a time (max |Δ| printed).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import wave

import numpy as np

SR = 16000
WINDOW = 30 * SR
LIBRIVOX = "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-{}.wav"
CARDS = "/usr/share/pocketsphinx/test/data/cards/{}.wav"
BIG_DOG = "/usr/share/codec2/raw/big_dog.raw"
FFMPEG = ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "s16le", "-ar", "8000", "-ac", "1", "-i", "{}",
          "-af", "aresample=resampler=soxr:precision=28", "-ar", "16000", "-f", "f32le", "-"]
LONG_FILES = ([LIBRIVOX.format(n) for n in ("0870", "0880", "0890", "0920", "0930")]
              + [CARDS.format(n) for n in ("001", "002", "003", "004", "005")]
              + [LIBRIVOX.format(n) for n in ("0870", "0880", "0890", "0920", "0930")]
              + [CARDS.format(n) for n in ("001", "002", "003", "004", "005")])


def read_wav(path: str) -> np.ndarray:
    with wave.open(path, "rb") as w:
        if (w.getsampwidth(), w.getnchannels(), w.getframerate()) != (2, 1, SR):
            sys.exit(f"make-golden-audio: {path} is not 16-bit mono 16 kHz PCM")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (pcm.astype(np.float32) / np.float32(32768.0)).astype(np.float32)


def resample_8k(path: str) -> np.ndarray:
    cmd = [a.format(path) for a in FFMPEG]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4").copy()


def inputs() -> list:
    """(name, sources, resample command or None, float32 16-kHz samples) for every input."""
    out = []
    for name, path in (("librivox-0870", LIBRIVOX.format("0870")), ("librivox-0880", LIBRIVOX.format("0880")),
                       ("cards-001", CARDS.format("001"))):
        a = read_wav(path)
        out.append((name, [{"path": path, "kind": "wav", "samples": len(a)}], None, a))
    a = resample_8k(BIG_DOG)
    cmd = " ".join(a_ if a_ != "{}" else "FILE" for a_ in FFMPEG)
    out.append(("big_dog-8k", [{"path": BIG_DOG, "kind": "s16le-8000-mono", "samples": os.path.getsize(BIG_DOG) // 2}],
                cmd, a))
    parts = [read_wav(p) for p in LONG_FILES]
    out.append(("long-concat", [{"path": p, "kind": "wav", "samples": len(x)} for p, x in zip(LONG_FILES, parts)],
                None, np.concatenate(parts)))
    return out


def l2(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def floats(v) -> list:
    return [float(x) for x in np.asarray(v, dtype=np.float32)]


def cmd_vectors(modeldir: str, out: str) -> None:
    import torch
    import transformers
    from transformers import WhisperFeatureExtractor, WhisperModel

    torch.set_num_threads(os.cpu_count() or 1)
    transformers.logging.set_verbosity_error()
    fe = WhisperFeatureExtractor.from_pretrained(modeldir)
    model, info = WhisperModel.from_pretrained(modeldir, dtype=torch.float32, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    if bad:
        sys.exit(f"make-golden-audio: loading {modeldir} reports {bad}")
    model.eval()
    cfg = model.config
    docs = []
    for name, sources, resample, audio in inputs():
        windows, feats_all, hidden_all = [], [], []
        for k, begin in enumerate(range(0, len(audio), WINDOW)):
            chunk = audio[begin:begin + WINDOW]
            feats = fe(chunk, sampling_rate=SR, return_tensors="np").input_features.astype(np.float32)
            with torch.no_grad():
                hidden = model.encoder(torch.from_numpy(feats)).last_hidden_state[0].numpy()
            frames = min(1500, (len(chunk) + 319) // 320)  # ceil(samples × 50 / 16000)
            assert frames == min(1500, math.ceil(len(chunk) / SR * 50))
            v = l2(hidden[:frames].astype(np.float64).mean(axis=0))
            windows.append({"index": k, "start": begin / SR, "end": (begin + len(chunk)) / SR,
                            "samples": len(chunk), "frames": frames, "vector": v})
            feats_all.append(feats)
            hidden_all.append(hidden)
        vector = windows[0]["vector"] if len(windows) == 1 else l2(np.mean([w["vector"] for w in windows], axis=0))
        if len(windows) > 1:
            with torch.no_grad():
                hb = model.encoder(torch.from_numpy(np.concatenate(feats_all))).last_hidden_state.numpy()
            print(f"make-golden-audio: {name}: batch of {len(windows)} windows vs one at a time: max |Δ| = "
                  f"{max(np.abs(hb[i] - h).max() for i, h in enumerate(hidden_all)):.3g}")
            cos = [float(np.dot(w["vector"], vector)) for w in windows]
            print(f"make-golden-audio: {name}: cosine(window, whole) = {', '.join(f'{c:.4f}' for c in cos)}")
        for w in windows:
            w["vector"] = floats(w["vector"])
        docs.append({"name": name, "sources": sources, "resample": resample, "samples": len(audio),
                     "seconds": len(audio) / SR,
                     "sha256_f32le": hashlib.sha256(audio.astype("<f4").tobytes()).hexdigest(),
                     "vector": floats(vector), "windows": windows})
        print(f"make-golden-audio: {name}: {len(audio)} samples ({len(audio) / SR:.3f} s), {len(windows)} window(s)")
    vecs = np.array([d["vector"] for d in docs], dtype=np.float64)
    print("make-golden-audio: cosine between inputs:\n" + np.array2string(vecs @ vecs.T, precision=3))
    doc = {
        "format": 1, "model": os.path.basename(os.path.normpath(modeldir)), "d_model": cfg.d_model,
        "n_mels": cfg.num_mel_bins, "sample_rate": SR, "window_seconds": 30, "window_samples": WINDOW,
        "overlap": 0,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__},
        "pooling": "per 30-s window: mean of the first ceil(samples/320) (≤ 1500) encoder frames, L2-normalised; "
                   "input: mean of the window vectors, L2-normalised (float64)",
        "long_files": LONG_FILES,
        "inputs": docs,
    }
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, out)
    print(f"make-golden-audio: wrote {out} ({os.path.getsize(out)} bytes)")


def cmd_mel_filters() -> None:
    import importlib.util

    from transformers import WhisperFeatureExtractor

    # Locate openai-whisper's assets without importing it (its __init__ needs tiktoken).
    spec = importlib.util.find_spec("whisper")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("make-golden-audio: openai-whisper is not installed (pip install openai-whisper)")
    npz = os.path.join(list(spec.submodule_search_locations)[0], "assets", "mel_filters.npz")
    ref = np.load(npz)
    for n in (80, 128):
        hf = WhisperFeatureExtractor(feature_size=n).mel_filters.T  # [n_mels, 201]
        oa = ref[f"mel_{n}"]
        print(f"mel_{n}: transformers {hf.shape} {hf.dtype} vs openai-whisper {oa.shape} {oa.dtype}: "
              f"max |Δ| = {np.abs(hf.astype(np.float64) - oa.astype(np.float64)).max():.3g}, "
              f"max |filter| = {np.abs(oa).max():.3g}")


def main(argv: list) -> None:
    if len(argv) == 4 and argv[1] == "vectors":
        cmd_vectors(argv[2], argv[3])
    elif len(argv) == 2 and argv[1] == "mel-filters":
        cmd_mel_filters()
    else:
        sys.exit(__doc__.split("\n\n")[1])


if __name__ == "__main__":
    main(sys.argv)
