"""Python side of bench/image-prep: Pillow decoding + transformers' image processor (Pillow
backend), per image, one thread — what a Python user runs before the network."""
import json, sys, time

import numpy as np
from PIL import Image, ImageOps
from transformers import AutoImageProcessor


def main():
    model, seconds, files = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    processor = AutoImageProcessor.from_pretrained(model, use_fast=False)
    data = []
    import io
    for f in files:
        with open(f, 'rb') as fh:
            b = fh.read()
        try:  # the same files embedd decodes: skimage ships a truncated JPEG on purpose
            with Image.open(io.BytesIO(b)) as im:
                ImageOps.exif_transpose(im).convert('RGB')
        except Exception:
            continue
        data.append(b)
    decode = prep = 0.0
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or n < len(data):
        b = data[n % len(data)]
        t0 = time.perf_counter()
        with Image.open(io.BytesIO(b)) as im:
            rgb = ImageOps.exif_transpose(im).convert('RGB')
        t1 = time.perf_counter()
        processor(images=rgb, return_tensors='np')
        t2 = time.perf_counter()
        decode += t1 - t0
        prep += t2 - t1
        n += 1
    total = decode + prep
    print(json.dumps({'engine': 'pillow+transformers', 'images': n, 'img_per_s': n / total, 'ms_per_img': total / n * 1000,
                      'decode_ms': decode / n * 1000, 'prep_ms': prep / n * 1000}))


if __name__ == '__main__':
    main()
