#!/usr/bin/env python3
"""Whisper log-mel features of one 30-s window: embedd (EmbedAudio, one thread) against
transformers' `WhisperFeatureExtractor()(samples, sampling_rate=16000, return_tensors="np")` on the
same samples, and the ratio.

    flock /tmp/embedd-build.lock /work/venv-ref/bin/python bench/audio_features_bench.py [--seconds 4]

Build first: swift build -c release --product audio-features-bench. The samples are real speech:
the float32 samples of Tests/Fixtures/audio (pocketsphinx-testdata and codec2-examples), joined
cyclically to exactly 30 s, as the golden test's full-30s case (so no frame is padding). With torch
installed transformers computes the STFT with torch (float32); it is timed with torch's default
threads and with one thread, and transformers' numpy path (float64, what embedd matches) once.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures", "audio")


def window_samples():
    with open(os.path.join(FIXTURES, "features.json")) as f:
        index = json.load(f)
    full = next(e for e in index["inputs"] if e["name"] == "full-30s")
    files = {e["name"]: e["samples"] for e in index["inputs"] if "samples" in e}
    parts = [np.fromfile(os.path.join(FIXTURES, files[n]), dtype="<f4") for n in full["concat"]]
    out, total = [], 0
    while total < 480000:
        for p in parts:
            out.append(p)
            total += len(p)
    return np.concatenate(out)[:480000].astype(np.float32)


def time_python(fn, seconds):
    for _ in range(2):
        fn()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 5:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return {"runs": len(times), "ms_p50": times[len(times) // 2] * 1e3, "ms_min": times[0] * 1e3,
            "ms_mean": sum(times) / len(times) * 1e3}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "audio-features-bench"))
    args = ap.parse_args()
    samples = window_samples()

    with tempfile.NamedTemporaryFile(suffix=".f32") as tmp:
        samples.astype("<f4").tofile(tmp.name)
        line = subprocess.run([args.binary, "--samples", tmp.name, "--seconds", str(args.seconds)],
                              check=True, capture_output=True, text=True).stdout.strip()
    embedd = json.loads(line)
    print(json.dumps(embedd))

    import torch
    import transformers
    from transformers import WhisperFeatureExtractor
    fe = WhisperFeatureExtractor()
    call = lambda: fe(samples, sampling_rate=16000, return_tensors="np")
    rows = []
    default_threads = torch.get_num_threads()
    for threads in (default_threads, 1):
        torch.set_num_threads(threads)
        r = {"engine": f"transformers {transformers.__version__} WhisperFeatureExtractor (torch {threads} thread(s))",
             **time_python(call, args.seconds)}
        rows.append(r)
        print(json.dumps(r))
    x64 = samples.astype(np.float64)[None]
    numpy_path = {"engine": "transformers numpy path (float64)",
                  **time_python(lambda: fe._np_extract_fbank_features(x64, "cpu"), min(args.seconds, 2.0))}
    print(json.dumps(numpy_path))
    for r in rows + [numpy_path]:
        print(f"embedd {embedd['ms_p50']:.2f} ms vs {r['engine']} {r['ms_p50']:.2f} ms (p50): "
              f"{r['ms_p50'] / embedd['ms_p50']:.1f}x", file=sys.stderr)


if __name__ == "__main__":
    main()
