#!/usr/bin/env python3
"""Golden vectors for whole image files: the full `transformers` pipeline, file to vector.

    tools/make-golden-image-files.py MODEL_DIR OUT.json [PICTURE_DIR]

For every picture in PICTURE_DIR (default bench/data/photos, filled by tools/fetch-test-media, plus
Tests/Fixtures/media's edge cases: CMYK, EXIF rotations, 16-bit, palette, alpha, animated),
runs what a Python user runs — `ImageOps.exif_transpose(Image.open(f)).convert("RGB")`, the
folder's image processor through `AutoImageProcessor` (Pillow backend) and `AutoModel` in fp32
— and writes {"file name": [pooled vector]} as JSON, with the library versions. The image
plugin's tests and tools/check-image-model compare embedd's vectors for the same files (cosine).

Needs a venv with torch (CPU), transformers and Pillow (default /work/venv-ref).
"""
import glob, json, os, sys

import numpy as np
import PIL
import torch
import transformers
from PIL import Image, ImageOps
from transformers import AutoImageProcessor, AutoModel

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pictures(directory):
    found = []
    for d in [directory, os.path.join(REPO, 'Tests', 'Fixtures', 'media')]:
        for ext in ('jpg', 'jpeg', 'png', 'webp'):
            found += sorted(glob.glob(os.path.join(d, '**', '*.' + ext), recursive=True))
    return found


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    model_dir, out = sys.argv[1], sys.argv[2]
    directory = sys.argv[3] if len(sys.argv) > 3 else os.environ.get(
        'EMBEDD_PHOTOS_DIR', os.path.join(REPO, 'bench', 'data', 'photos'))
    torch.manual_seed(0)
    processor = AutoImageProcessor.from_pretrained(model_dir, use_fast=False)
    model = AutoModel.from_pretrained(model_dir).eval()
    vectors, skipped = {}, {}
    for path in pictures(directory):
        # Keys are paths relative to their folder ("skimage/astronaut.png", "cmyk.jpg").
        root = directory if path.startswith(os.path.abspath(directory)) else os.path.join(REPO, 'Tests', 'Fixtures', 'media')
        name = os.path.relpath(path, root)
        try:
            with Image.open(path) as im:
                rgb = ImageOps.exif_transpose(im).convert('RGB')
        except Exception as e:  # the decoders' own tests cover broken files
            skipped[name] = str(e)
            continue
        with torch.no_grad():
            inputs = processor(images=rgb, return_tensors='pt')
            pooled = model(**inputs).pooler_output.reshape(-1)
        vectors[name] = [float(x) for x in pooled.numpy().astype(np.float32)]
    doc = {'model': os.path.basename(os.path.normpath(model_dir)), 'processor': type(processor).__name__,
           'versions': {'torch': torch.__version__, 'transformers': transformers.__version__, 'pillow': PIL.__version__},
           'skipped': skipped, 'vectors': vectors}
    with open(out, 'w') as f:
        json.dump(doc, f, indent=0)
    print(f'{out}: {len(vectors)} vectors ({type(processor).__name__}), {len(skipped)} skipped', file=sys.stderr)


if __name__ == '__main__':
    main()
