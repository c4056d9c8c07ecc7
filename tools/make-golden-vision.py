#!/usr/bin/env python3
"""Golden files for EmbedVision (Tests/Fixtures/vision), made by real Pillow and real transformers.

    python3 tools/make-golden-vision.py [--out Tests/Fixtures/vision]

Needs pillow, transformers and numpy (no torch: the image processors return numpy arrays, and
without torchvision transformers 5 picks the Pillow backend; this script also asks for it
explicitly with backend="pil" and checks that it got it).

Inputs are synthetic and deterministic (gradients, a checkerboard and splitmix64 noise), written
by a generator simple enough to be re-implemented in the Swift test, which checks each input's
FNV-1a 64 digest before comparing; so only the configurations and the expected outputs are
committed. Each output is a raw file (`<case>.rgb`: uint8 RGB, rows top to bottom; `<case>.f32`:
transformers' pixel_values[0], float32 little-endian CHW) or, when larger than 64 KiB, only its
digest in the manifest. `cases.txt` lists every case:

    resize  NAME W H PATTERN SEED FILTER OUT_W OUT_H INPUT_FNV EXPECTED
    process NAME CONFIG W H PATTERN SEED OUT_W OUT_H INPUT_FNV EXPECTED FLOATS

EXPECTED is a file name, fnv:<16 hex digits>, or 'error' when transformers refuses the image;
FLOATS a file name, fnv:<16 hex digits>, or '-'.
"""
import argparse
import json
import os
import platform
import sys
import tempfile

import numpy as np
import PIL
import transformers
from PIL import Image
from transformers import AutoImageProcessor

MASK = (1 << 64) - 1
GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def splitmix(seed, count):
    """splitmix64 of seed + (i + 1) * golden ratio, for i in 0..<count (uint64, wrapping)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (np.arange(count, dtype=np.uint64) + np.uint64(1)) * GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def synth(w, h, pattern, seed):
    """The test image, H×W×3 uint8. Byte i = (y * w + x) * 3 + c.

    noise:  splitmix(seed)[i] & 255
    smooth: (base_c * 3 // 4 + checker + splitmix(seed)[i] % 32) & 255 where base_0 = x * 255 // max(w - 1, 1),
            base_1 = y * 255 // max(h - 1, 1), base_2 = (x + y) * 255 // max(w + h - 2, 1), and
            checker = 60 on the 8×8 squares where (x // 8 + y // 8) is even, else 0.
    """
    noise = splitmix(seed, w * h * 3)
    if pattern == "noise":
        return (noise & np.uint64(255)).astype(np.uint8).reshape(h, w, 3)
    assert pattern == "smooth"
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    base = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x + y) * 255 // max(w + h - 2, 1)], axis=-1)
    checker = np.where(((x // 8 + y // 8) % 2) == 0, 60, 0)[..., None]
    n = (noise % np.uint64(32)).astype(np.int64).reshape(h, w, 3)
    return ((base * 3 // 4 + checker + n) & 255).astype(np.uint8)


_FNV_CACHE = {}


def fnv(data):
    """FNV-1a 64 of the bytes."""
    data = bytes(data)
    if data in _FNV_CACHE:
        return _FNV_CACHE[data]
    h = 0xCBF29CE484222325
    for b in bytes(data):
        h = ((h ^ b) * 0x100000001B3) & MASK
    _FNV_CACHE[data] = f"{h:016x}"
    return _FNV_CACHE[data]


FILTERS = {
    "NEAREST": Image.Resampling.NEAREST, "BOX": Image.Resampling.BOX, "BILINEAR": Image.Resampling.BILINEAR,
    "HAMMING": Image.Resampling.HAMMING, "BICUBIC": Image.Resampling.BICUBIC, "LANCZOS": Image.Resampling.LANCZOS,
}

# (name, w, h, pattern, seed, out_w, out_h)
RESIZES = [
    ("down", 97, 61, "noise", 1, 40, 23),
    ("down-smooth", 97, 61, "smooth", 2, 40, 23),
    ("up", 31, 23, "smooth", 3, 70, 53),
    ("vertical-only", 13, 17, "noise", 4, 13, 40),
    ("horizontal-only", 64, 48, "smooth", 5, 17, 48),
    ("one-pixel-up", 1, 1, "noise", 6, 5, 3),
    ("tall-3x10000", 3, 10000, "noise", 7, 2, 300),
    ("wide-to-one", 300, 7, "noise", 8, 1, 1),
    ("mixed", 120, 20, "smooth", 9, 30, 77),
    ("same-size", 20, 10, "noise", 10, 20, 10),
    ("photo-640x480", 640, 480, "smooth", 11, 341, 256),
    # Pillow 13 resizes vertically first when the height loses more than twice the width's pixels.
    ("order-horizontal-first", 100, 110, "noise", 12, 50, 10),   # 100 = 2 * 50: horizontal first
    ("order-vertical-first", 100, 111, "noise", 13, 50, 10),     # 101 > 2 * 50: vertical first
    ("order-vertical-first-square", 100, 100, "smooth", 14, 90, 67),
    ("order-vertical-first-wider", 30, 500, "noise", 15, 41, 20),  # width grows, height shrinks
]

# Real files, verbatim: microsoft/resnet-50 and openai/clip-vit-base-patch32.
CONFIGS = {
    "resnet-50": {"crop_pct": 0.875, "do_normalize": True, "do_resize": True,
                  "feature_extractor_type": "ConvNextFeatureExtractor", "image_mean": [0.485, 0.456, 0.406],
                  "image_std": [0.229, 0.224, 0.225], "resample": 3, "size": 224},
    "clip-vit-base-patch32": {"crop_size": 224, "do_center_crop": True, "do_normalize": True, "do_resize": True,
                              "feature_extractor_type": "CLIPFeatureExtractor",
                              "image_mean": [0.48145466, 0.4578275, 0.40821073],
                              "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 224},
    # Small variants that reach every rule at a few KiB per output.
    "convnext-small": {"image_processor_type": "ConvNextImageProcessor", "size": {"shortest_edge": 32},
                       "crop_pct": 0.875, "resample": 3, "image_mean": [0.485, 0.456, 0.406],
                       "image_std": [0.229, 0.224, 0.225]},
    "convnext-warp": {"image_processor_type": "ConvNextImageProcessor", "size": 384, "resample": 2},
    "convnext-lanczos-crop": {"image_processor_type": "ConvNextImageProcessorPil", "size": 40, "crop_pct": 0.9,
                              "resample": 1, "do_center_crop": True, "crop_size": {"height": 30, "width": 44}},
    "clip-small": {"image_processor_type": "CLIPImageProcessor", "size": {"shortest_edge": 40},
                   "crop_size": {"height": 32, "width": 30}, "resample": 3, "do_convert_rgb": True},
    "clip-pad": {"image_processor_type": "CLIPImageProcessor", "size": {"shortest_edge": 20},
                 "crop_size": {"height": 32, "width": 26}, "resample": 2},
    "clip-exact-nearest": {"image_processor_type": "CLIPImageProcessor", "size": {"height": 30, "width": 50},
                           "do_center_crop": False, "resample": 0, "do_rescale": False,
                           "image_mean": [127.5, 120.25, 100.0], "image_std": [64.0, 60.5, 58.25]},
    "clip-longest-box": {"image_processor_type": "CLIPImageProcessor",
                         "size": {"shortest_edge": 30, "longest_edge": 40}, "do_center_crop": False,
                         "resample": 4, "rescale_factor": 0.0019607843137254902, "image_mean": 0.25, "image_std": 2.0},
    "clip-hamming-nocrop-noresize": {"image_processor_type": "CLIPImageProcessor", "do_resize": False,
                                     "crop_size": 16, "resample": 5, "do_normalize": False},
}

IMAGES = [  # (name, w, h, pattern, seed)
    ("landscape-640x480", 640, 480, "smooth", 21),
    ("portrait-480x640", 480, 640, "noise", 22),
    ("odd-97x61", 97, 61, "noise", 23),
    ("square-300x299", 300, 299, "smooth", 24),
    ("tiny-1x1", 1, 1, "noise", 25),
    ("tiny-2x2", 2, 2, "noise", 26),
    ("tall-3x10000", 3, 10000, "noise", 27),
    ("wide-10000x3", 10000, 3, "smooth", 28),
]

# Which (config, image) pairs also get transformers' float pixel_values committed.
FLOATS = {("convnext-small", "portrait-480x640"), ("clip-small", "odd-97x61"), ("clip-exact-nearest", "landscape-640x480"),
          ("clip-longest-box", "square-300x299"), ("clip-pad", "tiny-2x2"), ("resnet-50", "landscape-640x480"),
          ("convnext-lanczos-crop", "odd-97x61")}
# The full-size configurations run on fewer images (each output is 147 KiB).
FULL_SIZE_IMAGES = {"resnet-50": {"landscape-640x480", "portrait-480x640", "tiny-1x1", "tiny-2x2", "tall-3x10000",
                                  "wide-10000x3"},
                    "clip-vit-base-patch32": {"odd-97x61", "portrait-480x640", "wide-10000x3"},
                    "convnext-warp": {"landscape-640x480", "tiny-1x1"}}
INLINE_LIMIT = 64 * 1024
FULL_FILES = {("resnet-50", "landscape-640x480"), ("clip-vit-base-patch32", "odd-97x61")}  # committed even if large


def expected(out_dir, name, data, force_file=False):
    if len(data) > INLINE_LIMIT and not force_file:
        return "fnv:" + fnv(data)
    with open(os.path.join(out_dir, name), "wb") as f:
        f.write(data)
    return name


def processor(config, tmp, **overrides):
    d = tempfile.mkdtemp(dir=tmp)
    with open(os.path.join(d, "preprocessor_config.json"), "w") as f:
        json.dump(config, f)
    p = AutoImageProcessor.from_pretrained(d, backend="pil", **overrides)
    assert p.backend == "pil" and type(p).__name__.endswith("Pil"), type(p)
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "vision"))
    out = ap.parse_args().out
    os.makedirs(os.path.join(out, "configs"), exist_ok=True)
    for old in os.listdir(out):
        if old.endswith((".rgb", ".f32")):
            os.remove(os.path.join(out, old))
    versions = (f"Pillow {PIL.__version__}, transformers {transformers.__version__} (Pillow backend), "
                f"numpy {np.__version__}, Python {platform.python_version()}")
    print(versions, file=sys.stderr)
    lines = ["# made by tools/make-golden-vision.py: " + versions]

    for f_name, f in FILTERS.items():
        for name, w, h, pattern, seed, ow, oh in RESIZES:
            src = synth(w, h, pattern, seed)
            got = np.asarray(Image.fromarray(src, "RGB").resize((ow, oh), f))
            case = f"resize-{name}-{f_name.lower()}"
            exp = expected(out, case + ".rgb", got.tobytes())
            lines.append(f"resize {case} {w} {h} {pattern} {seed} {int(f)} {ow} {oh} {fnv(src.tobytes())} {exp}")

    with tempfile.TemporaryDirectory() as tmp:
        for c_name, config in CONFIGS.items():
            with open(os.path.join(out, "configs", c_name + ".json"), "w") as f:
                json.dump(config, f, indent=2)
                f.write("\n")
            crop_p = processor(config, tmp, do_rescale=False, do_normalize=False)
            full_p = processor(config, tmp)
            for i_name, w, h, pattern, seed in IMAGES:
                if c_name in FULL_SIZE_IMAGES and i_name not in FULL_SIZE_IMAGES[c_name]:
                    continue
                src = synth(w, h, pattern, seed)
                img = Image.fromarray(src, "RGB")
                case = f"process-{c_name}-{i_name}"
                try:
                    crop = crop_p(img, return_tensors="np")["pixel_values"][0]
                except ValueError as e:  # e.g. a longest_edge cap that rounds a side to 0 pixels
                    print(case, "refused:", e, file=sys.stderr)
                    lines.append(f"process {case} {c_name}.json {w} {h} {pattern} {seed} 0 0 {fnv(src.tobytes())} error -")
                    continue
                assert crop.dtype == np.uint8, crop.dtype  # resize and crop stayed in 8 bits
                hwc = np.ascontiguousarray(crop.transpose(1, 2, 0))
                exp = expected(out, case + ".rgb", hwc.tobytes(), (c_name, i_name) in FULL_FILES)
                floats = "-"
                if (c_name, i_name) in FLOATS:
                    pv = full_p(img, return_tensors="np")["pixel_values"][0]
                    assert pv.dtype == np.float32 and pv.shape == crop.shape, (pv.dtype, pv.shape)
                    floats = expected(out, case + ".f32", pv.astype("<f4").tobytes())  # large: digest only
                lines.append(f"process {case} {c_name}.json {w} {h} {pattern} {seed} {hwc.shape[1]} {hwc.shape[0]} "
                             f"{fnv(src.tobytes())} {exp} {floats}")
                print(case, hwc.shape, file=sys.stderr)

    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(out) for fn in fns)
    print(f"{len(lines) - 1} cases, {total} bytes in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
