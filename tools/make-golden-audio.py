#!/usr/bin/env python3
"""Golden files for EmbedAudio and the audio plugin (Tests/Fixtures/audio), made by real transformers on real speech.

    /work/venv-ref/bin/python tools/make-golden-audio.py features [OUTDIR]

OUTDIR defaults to Tests/Fixtures/audio. Each subcommand is one function; main() only dispatches.

features — the log-mel front end (`WhisperFeatureExtractor`):
  Inputs: two 16-kHz recordings from Debian's pocketsphinx-testdata, one 8-kHz codec2-examples
  recording resampled to 16 kHz once here (ffmpeg's soxr resampler; the saved samples are what the
  Swift test feeds, so it never resamples), a synthetic chirp + silence + clicks, and a 30.5-s
  input made by concatenating those four cyclically (so the trim to 30 s, the reflection over real
  audio at the end and a maximum taken over real audio are all tested; it is rebuilt by the test
  from the other samples, not stored). Written:
    samples/NAME.f32         the float32 samples (little-endian) the features were computed from
    features/NAME-MELS.f32   the reference features, float32 LE, [MELS, frames_stored] row-major;
                             only the frames that touch real audio plus a few: every later frame
                             is pure padding and equals `padding_frame_value` (the test checks it)
    mel/whisper-MELS.f32     openai-whisper's mel_filters.npz (mel_80, mel_128), each filter's
                             nonzero span only (`mel_filters` in the index gives the spans)
    features.json            the index
  The reference is computed in float64: transformers' own window_function and mel_filter_bank,
  reflect padding, a complex128 rfft (transformers' numpy path rounds the spectrum to complex64),
  |X|^2, the mel projection and log10 all in float64; then transformers' final steps exactly
  (cast to float32, drop the last frame, clamp to max - 8, (x + 4) / 4 in float32). It is checked
  here against transformers' numpy path fed float64 samples and against the default
  `WhisperFeatureExtractor()(samples)` (torch's float32 STFT); the differences are recorded.

vectors — end-to-end vectors (the log-mel front end, the encoder and the pooling):

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
import argparse
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import wave

import numpy as np

SPHINX = "/usr/share/pocketsphinx/test/data"
CODEC2 = "/usr/share/codec2/raw"


def read_wav16(path):
    """A 16-bit mono WAV as float32 in [-1, 1): int16 / 32768 (what soundfile and librosa give)."""
    with wave.open(path, "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, path
        assert w.getframerate() == 16000, (path, w.getframerate())
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (pcm.astype(np.float32) / np.float32(32768.0)).astype(np.float32)


def resample_codec2(path):
    """An 8-kHz s16le raw file resampled to 16 kHz float32 by ffmpeg's soxr resampler (done once:
    the result is saved, so the Swift test sees exactly these samples)."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "s16le", "-ar", "8000", "-ac", "1", "-i", path,
         "-af", "aresample=resampler=soxr:precision=28", "-ar", "16000", "-f", "f32le", "-acodec", "pcm_f32le", "-"],
        check=True, capture_output=True).stdout
    return np.frombuffer(out, dtype="<f4").astype(np.float32)


def synthetic_chirp():
    """1.0 s of a linear chirp 100 → 7000 Hz at amplitude 0.5, 0.25 s of exact silence, then 0.25 s
    of clicks (one full-scale sample every 40 ms) over a quiet 440-Hz tone."""
    sr = 16000
    t = np.arange(sr, dtype=np.float64) / sr
    chirp = 0.5 * np.sin(2 * np.pi * (100 * t + 0.5 * (7000 - 100) * t * t))
    silence = np.zeros(sr // 4)
    t2 = np.arange(sr // 4, dtype=np.float64) / sr
    clicks = 0.01 * np.sin(2 * np.pi * 440 * t2)
    clicks[::640] = 1.0
    return np.concatenate([chirp, silence, clicks]).astype(np.float32)


def reference_features(samples, fe):
    """The float64 reference (see the module docstring) of `samples` (float32) for extractor `fe`."""
    from transformers.audio_utils import window_function
    x = np.full(fe.n_samples, fe.padding_value, dtype=np.float32)
    n = min(len(samples), fe.n_samples)
    x[:n] = samples[:n]
    padded = np.pad(x.astype(np.float64), fe.n_fft // 2, mode="reflect")
    window = window_function(fe.n_fft, "hann").astype(np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(padded, fe.n_fft)[::fe.hop_length]
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2.0                 # complex128 → float64
    mel = np.maximum(1e-10, np.dot(fe.mel_filters.T, power.T))                  # float64 filters
    log_spec = np.log10(mel).astype(np.float32)[:, :-1]
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).astype(np.float32)


def first_padding_frame(count, fe):
    """The first frame whose whole window lies in the padding (every later one equals it), or
    nb_max_frames when the reflection at the end of the 30-s window reaches real audio."""
    half = fe.n_fft // 2
    if count + half + 1 > fe.n_samples:
        return fe.nb_max_frames
    return min(fe.nb_max_frames, -(-(count + half) // fe.hop_length))


def write_f32(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.ascontiguousarray(array, dtype="<f4").tofile(path)


def features(args):
    import transformers
    import torch
    import importlib.metadata
    import importlib.util
    from transformers import WhisperFeatureExtractor
    torch.set_num_threads(1)
    out = args.outdir
    # openai-whisper imports tiktoken on import; only its asset is needed, so it is found, not imported.
    npz = os.path.join(os.path.dirname(importlib.util.find_spec("whisper").origin), "assets", "mel_filters.npz")

    inputs = {
        "sense-0880": (read_wav16(f"{SPHINX}/librivox/sense_and_sensibility_01_austen_64kb-0880.wav"),
                       "pocketsphinx-testdata librivox/sense_and_sensibility_01_austen_64kb-0880.wav (16 kHz s16)"),
        "cards-001": (read_wav16(f"{SPHINX}/cards/001.wav"), "pocketsphinx-testdata cards/001.wav (16 kHz s16)"),
        "big-dog": (resample_codec2(f"{CODEC2}/big_dog.raw"),
                    "codec2-examples raw/big_dog.raw (8 kHz s16le), resampled to 16 kHz by ffmpeg "
                    "aresample=resampler=soxr:precision=28"),
        "chirp": (synthetic_chirp(), "synthetic: 1 s chirp 100-7000 Hz, 0.25 s silence, 0.25 s clicks over a 440-Hz tone"),
    }
    concat = ["sense-0880", "cards-001", "big-dog", "chirp"]
    full_count = 488000  # 30.5 s: the extractor trims it to 30 s
    pieces, total = [], 0
    while total < full_count:
        for name in concat:
            pieces.append(inputs[name][0])
            total += len(inputs[name][0])
    full = np.concatenate(pieces)[:full_count]

    cases = [("sense-0880", 80), ("cards-001", 80), ("big-dog", 80), ("chirp", 80), ("full-30s", 80),
             ("cards-001", 128), ("empty", 80)]
    extractors = {m: WhisperFeatureExtractor(feature_size=m) for m in (80, 128)}
    index_inputs = []
    worst = {"numpy_path_f64": 0.0, "default_call": 0.0}
    for name, mels in cases:
        fe = extractors[mels]
        if name == "full-30s":
            samples = full
        elif name == "empty":
            samples = np.zeros(0, dtype=np.float32)
        else:
            samples = inputs[name][0]
        ref = reference_features(samples, fe)
        assert ref.shape == (mels, fe.nb_max_frames), ref.shape
        # transformers itself: the numpy path on float64 samples, and the default call (torch, float32).
        x = np.full(fe.n_samples, fe.padding_value, dtype=np.float64)
        x[:min(len(samples), fe.n_samples)] = samples[:fe.n_samples]
        numpy_path = fe._np_extract_fbank_features(x[None], "cpu")[0]
        d_numpy = float(np.abs(numpy_path - ref).max())
        d_call = None
        if len(samples) > 0:
            call = fe(samples, sampling_rate=16000, return_tensors="np")["input_features"][0]
            d_call = float(np.abs(call - ref).max())
            worst["default_call"] = max(worst["default_call"], d_call)
        worst["numpy_path_f64"] = max(worst["numpy_path_f64"], d_numpy)
        assert d_numpy < 1e-5 and (d_call is None or d_call < 1e-4), (name, d_numpy, d_call)

        first_pad = first_padding_frame(len(samples), fe)
        stored = min(fe.nb_max_frames, first_pad + 3)
        pad_value = None
        if first_pad < fe.nb_max_frames:
            tail = ref[:, first_pad:]
            pad_value = float(tail[0, 0])
            assert (tail == tail[0, 0]).all(), name  # padding_value 0: every mel of every padding frame
        entry = {"name": name, "feature_size": mels, "sample_count": int(len(samples)),
                 "frames_stored": int(stored), "padding_frame_value": pad_value,
                 "features": f"features/{name}-{mels}.f32",
                 "max_abs_diff_vs_numpy_path_f64": d_numpy, "max_abs_diff_vs_default_call": d_call}
        if name == "full-30s":
            entry["concat"] = concat
            entry["source"] = "the concatenation of `concat`'s samples, cyclically, cut to sample_count"
        elif name == "empty":
            entry["source"] = "no samples: 30 s of padding"
        else:
            entry["samples"] = f"samples/{name}.f32"
            entry["source"] = inputs[name][1]
            write_f32(os.path.join(out, entry["samples"]), samples)
        write_f32(os.path.join(out, entry["features"]), ref[:, :stored])
        index_inputs.append(entry)
        print(f"{name:>11} mels {mels}: {len(samples)} samples, {stored} frames stored, padding {pad_value}, "
              f"max |ref - numpy path| {d_numpy:.3g}, max |ref - default call| {d_call}", file=sys.stderr)

    # openai-whisper's filters (librosa, float32) against transformers' (float64).
    mel_index = {}
    with np.load(npz) as banks:
        for mels in (80, 128):
            theirs = banks[f"mel_{mels}"].astype(np.float32)              # [mels, 201]
            ours = extractors[mels].mel_filters.T                            # [mels, 201] float64
            assert theirs.shape == ours.shape, (theirs.shape, ours.shape)
            spans, values = [], []
            for row in theirs:
                nz = np.nonzero(row)[0]
                lo, hi = int(nz[0]), int(nz[-1]) + 1
                spans.append([lo, hi - lo])
                values.append(row[lo:hi])
            diff = np.abs(ours - theirs.astype(np.float64))
            rel = float((diff.max(axis=1) / np.abs(ours).max(axis=1)).max())
            mel_index[str(mels)] = {
                "file": f"mel/whisper-{mels}.f32", "bins": int(theirs.shape[1]), "spans": spans,
                "max_abs_diff_vs_transformers": float(diff.max()),
                "max_diff_relative_to_filter_peak": rel,
                "nonzero_pattern_equal": bool(((ours != 0) == (theirs != 0)).all()),
            }
            write_f32(os.path.join(out, mel_index[str(mels)]["file"]), np.concatenate(values))
            print(f"mel_{mels}: max |transformers - whisper npz| {diff.max():.3g} "
                  f"({rel:.3g} of a filter's peak); same nonzero bins: {mel_index[str(mels)]['nonzero_pattern_equal']}",
                  file=sys.stderr)

    versions = (f"transformers {transformers.__version__}, numpy {np.__version__}, torch {torch.__version__}, "
                f"openai-whisper {importlib.metadata.version('openai-whisper')}, Python {platform.python_version()}")
    index = {
        "made_by": "tools/make-golden-audio.py features: " + versions,
        "reference": "float64 to the log10 (complex128 rfft), then transformers' float32 steps; see the script",
        "worst_max_abs_diff_vs_transformers": worst,
        "inputs": index_inputs,
        "whisper_mel_filters": mel_index,
    }
    with open(os.path.join(out, "features.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    print(versions, file=sys.stderr)


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("features", help="log-mel features of real speech (WhisperFeatureExtractor)")
    p.add_argument("outdir", nargs="?", default="Tests/Fixtures/audio")
    p.set_defaults(run=features)
    p = commands.add_parser("vectors", help="end-to-end vectors of real speech (features, encoder, pooling)")
    p.add_argument("modeldir")
    p.add_argument("out")
    p.set_defaults(run=lambda a: cmd_vectors(a.modeldir, a.out))
    p = commands.add_parser("mel-filters", help="transformers' mel filters vs openai-whisper's mel_filters.npz")
    p.set_defaults(run=lambda a: cmd_mel_filters())
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
