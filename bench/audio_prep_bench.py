#!/usr/bin/env python3
"""The Python side of bench/audio's "decode + features" part, on one thread: the same files as
`audio-features-bench --files LIST`, decoded to 16-kHz mono float32 and turned into Whisper's
log-mel features, the two stages timed apart.

    OMP_NUM_THREADS=1 audio_prep_bench.py --files LIST [--hf models/whisper-base] [--seconds 4]

Decoding: the ffmpeg command line in a subprocess (openai-whisper's load_audio: `ffmpeg -i FILE
-ac 1 -ar 16000 -f f32le -`), and librosa.load(FILE, sr=16000) where librosa is installed
(libsndfile, then soxr_hq where the file is not at 16 kHz). Features of the first 30 s of the
first format's files: transformers' WhisperFeatureExtractor as it runs with torch installed
(torch's STFT, torch on one thread), its numpy path (what it does without torch; float64), and
librosa's melspectrogram with Whisper's parameters and log scaling. One JSON line per
implementation, stage and format: {"engine": "python", "impl", "stage", "format", "files",
"runs", "ms_p50", "ms_min", "ms_mean"}.
"""
import argparse, json, os, subprocess, time

import numpy as np


def timed(seconds, items, fn):
    for i in range(2):
        fn(items[i % len(items)])
    lat, k = [], 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(lat) < 5:
        t = time.perf_counter()
        fn(items[k % len(items)])
        lat.append(time.perf_counter() - t)
        k += 1
    lat.sort()
    return {"runs": len(lat), "ms_p50": lat[len(lat) // 2] * 1e3, "ms_min": lat[0] * 1e3, "ms_mean": sum(lat) / len(lat) * 1e3}


def emit(impl, stage, fmt, files, t):
    print(json.dumps({"engine": "python", "impl": impl, "stage": stage, "format": fmt, "files": files, **t}), flush=True)


def ffmpeg_decode(path):
    out = subprocess.run(["ffmpeg", "-nostdin", "-threads", "0", "-i", path, "-f", "f32le", "-ac", "1", "-ar", "16000", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<f4")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", required=True)
    ap.add_argument("--hf", help="model folder whose preprocessor_config.json to use (default: whisper's 80 bins)")
    ap.add_argument("--seconds", type=float, default=4.0)
    a = ap.parse_args()
    paths = [p for p in open(a.files).read().split("\n") if p]
    groups = {}
    for p in paths:
        groups.setdefault(p.rsplit(".", 1)[-1], []).append(p)
    try:
        import librosa
    except ImportError:
        librosa = None
    samples = None
    for fmt, files in groups.items():
        emit("ffmpeg CLI (subprocess)", "decode", fmt, len(files), timed(a.seconds, files, ffmpeg_decode))
        if librosa:
            emit(f"librosa {librosa.__version__} load", "decode", fmt, len(files),
                 timed(a.seconds, files, lambda f: librosa.load(f, sr=16000, mono=True)))
        if samples is None:
            samples = [ffmpeg_decode(f)[:480000] for f in files]

    import torch
    import transformers
    from transformers import WhisperFeatureExtractor
    import transformers.models.whisper.feature_extraction_whisper as fx
    torch.set_num_threads(1)
    fe = WhisperFeatureExtractor.from_pretrained(a.hf) if a.hf else WhisperFeatureExtractor()
    call = lambda s: fe(s, sampling_rate=16000, return_tensors="np")
    v = transformers.__version__
    emit(f"transformers {v} WhisperFeatureExtractor (torch STFT)", "features", "log-mel", len(samples), timed(a.seconds, samples, call))
    fx.is_torch_available = lambda: False  # its numpy path, as without torch
    emit(f"transformers {v} WhisperFeatureExtractor (numpy, float64)", "features", "log-mel", len(samples), timed(a.seconds, samples, call))
    if librosa:
        def mel(s):
            m = librosa.feature.melspectrogram(y=s, sr=16000, n_fft=fe.n_fft, hop_length=fe.hop_length, n_mels=fe.feature_size,
                                               power=2.0, htk=False, norm="slaney", center=True, pad_mode="reflect")[:, :-1]
            log = np.log10(np.maximum(m, 1e-10))
            return (np.maximum(log, log.max() - 8.0) + 4.0) / 4.0
        emit(f"librosa {librosa.__version__} melspectrogram + Whisper log scaling", "features", "log-mel", len(samples),
             timed(a.seconds, samples, mel))


if __name__ == "__main__":
    main()
