#!/usr/bin/env python3
"""One engine of bench/audio's end-to-end part: encoded sound files in, one vector per file
out, everything a user pays for — decoding, the log-mel front end, the encoder and the pooling.

    audio_e2e_bench.py embedd --socket PATH --model NAME FILE...   (the daemon over its socket,
                                                                   file bytes sent by the Python client)
    audio_e2e_bench.py torch  --hf DIR FILE...             (ffmpeg CLI + WhisperFeatureExtractor + PyTorch)
    audio_e2e_bench.py ct2-float32|ct2-int8 --hf DIR --ct2 DIR FILE...   (the same with CTranslate2's encode)

The Python pipeline decodes as openai-whisper's load_audio does (`ffmpeg -i FILE -ac 1 -ar 16000
-f f32le -` in a subprocess), computes transformers' WhisperFeatureExtractor features, runs the
encoder and pools as the audio plugin does: the mean of the ceil(seconds × 50) frames that cover
real audio (at most 1500), L2-normalised. The files are ≤ 30 s (one window each; longer files
would need the plugin's windowing, which this script does not reproduce). The first file's
vector of each Python engine is checked against the daemon's when --check FILE.npy is given.

Batches of BENCH_BATCHES files (round-robin over FILE...), for BENCH_SECONDS each (at least
BENCH_MIN_RUNS calls, after one warm-up call). One JSON line per batch: {"engine", "batch",
"files_per_s", "p50_ms", "runs"}. BENCH_THREADS (2) for the peers' encoders.
"""
import argparse, json, math, os, subprocess, sys, time

import numpy as np

THREADS = int(os.environ.get('BENCH_THREADS', '2'))
BATCHES = [int(b) for b in os.environ.get('BENCH_BATCHES', '1,8').split(',')]
SECONDS = float(os.environ.get('BENCH_SECONDS', '4'))
MIN_RUNS = int(os.environ.get('BENCH_MIN_RUNS', '2'))
MIMES = {'flac': 'audio/flac', 'mp3': 'audio/mpeg', 'wav': 'audio/wav', 'ogg': 'audio/ogg', 'm4a': 'audio/mp4'}


def measure(engine, files, fn):
    k = 0
    first = None
    for b in BATCHES:
        def batch():
            nonlocal k
            out = [files[(k + i) % len(files)] for i in range(b)]
            k += b
            return out
        warm = fn(batch())
        if first is None:
            first = warm
        lat = []
        start = time.perf_counter()
        while time.perf_counter() - start < SECONDS or len(lat) < MIN_RUNS:
            chunk = batch()
            t0 = time.perf_counter()
            fn(chunk)
            lat.append(time.perf_counter() - t0)
        total = time.perf_counter() - start
        lat.sort()
        print(json.dumps({'engine': engine, 'batch': b, 'files_per_s': b * len(lat) / total,
                          'p50_ms': lat[len(lat) // 2] * 1000, 'runs': len(lat)}), flush=True)
    return first


def ffmpeg_decode(path):
    """openai-whisper's load_audio, in float32."""
    out = subprocess.run(['ffmpeg', '-nostdin', '-threads', '0', '-i', path, '-f', 'f32le', '-ac', '1',
                          '-ar', '16000', '-'], capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype='<f4')


def pool(frames, seconds):
    """The audio plugin's pooling of one ≤ 30-s window: mean of the frames covering real audio, L2-normalised."""
    n = min(frames.shape[0], max(1, math.ceil(seconds * 50)))
    v = frames[:n].astype(np.float64).mean(axis=0)
    return (v / np.linalg.norm(v)).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('engine', choices=['embedd', 'torch', 'ct2-float32', 'ct2-int8'])
    ap.add_argument('--socket')
    ap.add_argument('--model')
    ap.add_argument('--hf')
    ap.add_argument('--ct2')
    ap.add_argument('--check', help='embedd: write the first file\'s vector here; others: compare with it')
    ap.add_argument('files', nargs='+')
    a = ap.parse_args()
    if a.engine == 'embedd':
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'clients', 'python'))
        import embedd
        c = embedd.Client(a.socket, timeout=600)
        media = [embedd.Media(open(f, 'rb').read(), MIMES.get(f.rsplit('.', 1)[-1], '')) for f in a.files]
        first = measure('embedd (socket, Python client)', media, lambda chunk: c.embed(chunk, model=a.model))
        if a.check:
            np.save(a.check, np.asarray(first[0], dtype=np.float32))
        return
    from transformers import WhisperFeatureExtractor
    fe = WhisperFeatureExtractor.from_pretrained(a.hf)
    if a.engine == 'torch':
        import torch
        from transformers import WhisperModel
        torch.set_num_threads(THREADS)
        enc = WhisperModel.from_pretrained(a.hf, torch_dtype=torch.float32).encoder.eval()

        def encode(x):
            with torch.inference_mode():
                return enc(torch.from_numpy(x)).last_hidden_state.numpy()
        name = 'pytorch fp32 (ffmpeg CLI + transformers)'
    else:
        import ctranslate2
        compute = a.engine[len('ct2-'):]
        model = ctranslate2.models.Whisper(a.ct2, device='cpu', compute_type=compute, inter_threads=1, intra_threads=THREADS)
        encode = lambda x: np.asarray(model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(x)), to_cpu=True))
        name = f'ctranslate2 {compute} (ffmpeg CLI + transformers)'

    def run(chunk):
        audio = [ffmpeg_decode(f) for f in chunk]
        x = fe(audio, sampling_rate=16000, return_tensors='np')['input_features'].astype(np.float32)
        frames = encode(x)
        return [pool(frames[i], len(s) / 16000) for i, s in enumerate(audio)]
    first = measure(name, a.files, run)
    if a.check and os.path.exists(a.check):
        ref = np.load(a.check)
        print(f'{name}: cosine with embedd on {os.path.basename(a.files[0])}: {float(np.dot(ref, first[0])):.5f}', file=sys.stderr)


if __name__ == '__main__':
    main()
