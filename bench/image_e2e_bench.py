#!/usr/bin/env python3
"""One engine of bench/image's end-to-end run: picture files in, vectors out, everything a user
pays for — decoding, pre-processing and the network.

    image_e2e_bench.py embedd --socket PATH --model NAME FILE...   (the daemon over its socket,
                                                                   files passed by path bytes)
    image_e2e_bench.py torch  --model-dir DIR FILE...              (Pillow + transformers + PyTorch)
    image_e2e_bench.py onnx   --model-dir DIR FILE...              (Pillow + transformers + ONNX Runtime)

Batches of BENCH_BATCHES files (round-robin over FILE...), for BENCH_SECONDS each. One JSON line
per batch: {"engine", "batch", "img_per_s", "p50_ms", "p99_ms"}. BENCH_THREADS (2) for the peers.
"""
import argparse, io, json, os, sys, time

import numpy as np

THREADS = int(os.environ.get('BENCH_THREADS', '2'))
BATCHES = [int(b) for b in os.environ.get('BENCH_BATCHES', '1,8,32').split(',')]
SECONDS = float(os.environ.get('BENCH_SECONDS', '6'))


def measure(engine, files, fn):
    k = 0
    for b in BATCHES:
        def batch():
            nonlocal k
            out = [files[(k + i) % len(files)] for i in range(b)]
            k += b
            return out
        fn(batch())  # warm-up
        lat = []
        start = time.perf_counter()
        while time.perf_counter() - start < SECONDS or len(lat) < 3:
            chunk = batch()
            t0 = time.perf_counter()
            fn(chunk)
            lat.append(time.perf_counter() - t0)
        total = time.perf_counter() - start
        lat.sort()
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
        print(json.dumps({'engine': engine, 'batch': b, 'img_per_s': b * len(lat) / total, 'p50_ms': p(0.5), 'p99_ms': p(0.99)}),
              flush=True)


def python_pipeline(model_dir):
    from PIL import Image, ImageOps
    from transformers import AutoImageProcessor
    processor = AutoImageProcessor.from_pretrained(model_dir, use_fast=False)

    def pixels(chunk):
        images = []
        for data in chunk:
            with Image.open(io.BytesIO(data)) as im:
                images.append(ImageOps.exif_transpose(im).convert('RGB'))
        return processor(images=images, return_tensors='np')['pixel_values']
    return pixels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('engine', choices=['embedd', 'torch', 'onnx'])
    ap.add_argument('--socket')
    ap.add_argument('--model')
    ap.add_argument('--model-dir')
    ap.add_argument('files', nargs='+')
    a = ap.parse_args()
    data = [open(f, 'rb').read() for f in a.files]
    if a.engine == 'embedd':
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'clients', 'python'))
        import embedd
        c = embedd.Client(a.socket)
        mimes = ['image/png' if f.endswith('.png') else 'image/jpeg' for f in a.files]
        by_bytes = {id(d): m for d, m in zip(data, mimes)}
        measure('embedd (socket)', data, lambda chunk: c.embed([embedd.Media(d, by_bytes[id(d)]) for d in chunk], model=a.model))
        return
    import torch
    torch.set_num_threads(THREADS)
    pixels = python_pipeline(a.model_dir)
    from transformers import ResNetForImageClassification
    net = ResNetForImageClassification.from_pretrained(a.model_dir).resnet.eval()
    if a.engine == 'torch':
        def run(chunk):
            with torch.no_grad():
                return net(torch.from_numpy(pixels(chunk))).pooler_output
        measure('pytorch (Pillow+transformers)', data, run)
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from image_net_bench import onnx_session  # the same export and check as bench/image-net
    sess = onnx_session(net)
    measure('onnxruntime (Pillow+transformers)', data, lambda chunk: sess.run(None, {'pixel_values': pixels(chunk)}))


if __name__ == '__main__':
    main()
