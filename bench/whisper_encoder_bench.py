#!/usr/bin/env python3
"""The peers of bench/Sources/whisper-bench: Whisper's encoder on PyTorch (transformers'
`WhisperModel.encoder`, fp32) and on CTranslate2 (`ctranslate2.models.Whisper.encode`, the
engine of faster-whisper), on the same synthetic 30-s log-mel windows
(tools/make-golden-whisper.py's `synthetic_features`; the work does not depend on the values).

    /work/venv-ref/bin/python bench/whisper_encoder_bench.py --hf models/whisper-base \
        --ct2 models/whisper-base-ct2 [--threads 2] [--batches 1,8] [--runs 3] \
        [--engines torch,ct2-float32,ct2-int8] [--features FILE.f32]

Prints one JSON line per engine and batch: {"engine", "batch", "best_ms", "median_ms",
"windows_per_s" (best run), "runs"}, as whisper-bench does. Run it under the build lock, like
every benchmark on the shared machine. Times cover the encoder only (features in, frames out);
embedd's pooling (a mean over ≤ 1500 rows) is inside its time and negligible. With --features
(float32 windows, mels × 3000 each, as whisper-bench --features reads them) batch b takes
windows 0, 1, … cyclically instead of the synthetic one.
"""

import argparse
import json
import os
import sys
import time

import numpy as np



def synthetic_features(n_mels, frames=3000):
    m = np.arange(n_mels, dtype=np.float64)[:, None]
    t = np.arange(frames, dtype=np.float64)[None, :]
    return (0.6 * np.sin(0.013 * (t + 1) * (m + 1)) + 0.25 * np.cos(0.7 * m + 0.002 * t) - 0.1).astype(np.float32)


def measure(engine, batch, runs, body):
    body()  # warm-up
    times = []
    for _ in range(runs):
        s = time.perf_counter()
        body()
        times.append(time.perf_counter() - s)
    times.sort()
    print(json.dumps({"engine": engine, "batch": batch, "best_ms": times[0] * 1000,
                      "median_ms": times[len(times) // 2] * 1000, "windows_per_s": batch / times[0], "runs": runs}),
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hf", required=True)
    ap.add_argument("--ct2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engines", default="torch,ct2-float32,ct2-int8")
    ap.add_argument("--features")
    a = ap.parse_args()
    batches = [int(b) for b in a.batches.split(",")]
    engines = a.engines.split(",")
    with open(os.path.join(a.hf, "config.json")) as f:
        n_mels = json.load(f)["num_mel_bins"]
    if a.features:
        windows = np.fromfile(a.features, dtype="<f4").reshape(-1, n_mels, 3000)
    else:
        windows = synthetic_features(n_mels)[None]
    stack = lambda b: np.ascontiguousarray(np.stack([windows[i % len(windows)] for i in range(b)]))
    if "torch" in engines:
        import torch
        from transformers import WhisperModel
        torch.set_num_threads(a.threads)
        enc = WhisperModel.from_pretrained(a.hf, torch_dtype=torch.float32).encoder.eval()
        for b in batches:
            xb = torch.from_numpy(stack(b))
            def run():
                with torch.inference_mode():
                    enc(xb).last_hidden_state
            measure(f"torch-fp32", b, a.runs, run)
        del enc
    for e in engines:
        if not e.startswith("ct2-"):
            continue
        import ctranslate2
        compute = e[len("ct2-"):]
        model = ctranslate2.models.Whisper(a.ct2, device="cpu", compute_type=compute, inter_threads=1, intra_threads=a.threads)
        for b in batches:
            sv = ctranslate2.StorageView.from_array(stack(b))
            measure(e, b, a.runs, lambda: model.encode(sv, to_cpu=True))
        del model


if __name__ == "__main__":
    main()
