#!/usr/bin/env python3
"""Reference ResNets and golden vectors for EmbedNN's image path (transformers + PyTorch, fp32).

    tools/make-golden-image.py full [DIR]   # full-size ResNet-50, default DIR models/resnet-50-random
    tools/make-golden-image.py tiny         # the tiny ResNets + vectors committed in Tests/Fixtures/image

No ResNet weights can be downloaded here, so the models are built from a seed: transformers'
`ResNetForImageClassification` with its own initialisation (`torch.manual_seed`), batch-norm
statistics first calibrated on random images (so activations keep a sane scale through 50
layers, as a trained network's do) and then randomised, as are the affine weights and biases.
Folders are written exactly as Hugging Face ships microsoft/resnet-50: config.json (the same
keys), model.safetensors (`save_pretrained`, names under `resnet.` plus `classifier.*`) and
preprocessor_config.json, then loaded back with `from_pretrained` to make the vectors.

Inputs are not stored: `pixels()` makes them from (seed, image, channel, y, x) with an integer
hash, 4×4-pixel blocks of random uint8 values normalised with the ImageNet mean and std, all in
float32 — the Swift tests rebuild the same floats bit for bit (Tests/EmbedNNTests/ImageFixtures.swift).
Outputs: `pooler_output` flattened, little-endian float32, image after image, in
  <dir>/<H>x<W>.n<count>.s<seed>.f32          (full; DIR/golden/, kept out of git)
  Tests/Fixtures/image/<model>.<H>x<W>.n<count>.s<seed>.f32   (tiny)

Needs a venv with torch (CPU), transformers, safetensors (default /work/venv-ref).
"""
import json, os, sys

import numpy as np
import torch
from transformers import ResNetConfig, ResNetForImageClassification

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(REPO, 'Tests', 'Fixtures', 'image')
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

# microsoft/resnet-50's config.json, key for key (labels generic: the real names are not needed).
RESNET50 = dict(depths=[3, 4, 6, 3], downsample_in_first_stage=False, embedding_size=64, hidden_act='relu',
                hidden_sizes=[256, 512, 1024, 2048], layer_type='bottleneck', num_channels=3)
PREPROCESSOR = {"crop_pct": 0.875, "do_normalize": True, "do_resize": True,
                "feature_extractor_type": "ConvNextFeatureExtractor", "image_mean": [0.485, 0.456, 0.406],
                "image_std": [0.229, 0.224, 0.225], "resample": 3, "size": 224}

# The tiny models: a bottleneck net (transformers' defaults otherwise), a basic-block net, and a
# bottleneck net with both downsampling switches set (the stride in the first 1×1, a strided
# first stage). Channel counts that are not multiples of 8 or 16 exercise padded blocked layouts.
TINY = {
    'resnet-tiny-bottleneck': dict(embedding_size=8, hidden_sizes=[8, 16, 16, 32], depths=[2, 1, 2, 1], layer_type='bottleneck'),
    'resnet-tiny-basic': dict(embedding_size=8, hidden_sizes=[8, 16, 24, 32], depths=[2, 1, 2, 1], layer_type='basic'),
    'resnet-tiny-v1': dict(embedding_size=12, hidden_sizes=[16, 32, 48, 64], depths=[1, 2, 1, 1], layer_type='bottleneck',
                           downsample_in_bottleneck=True, downsample_in_first_stage=True),
}
# (height, width, count, seed) per model; the Swift tests list the same cases.
TINY_CASES = [(224, 224, 4, 1), (160, 192, 3, 2), (37, 53, 2, 3), (224, 224, 16, 4)]
FULL_CASES = [(224, 224, 4, 1), (160, 192, 2, 2), (224, 224, 16, 4)]


def pixels(count, height, width, seed):
    """[count, 3, height, width] float32: 4×4 blocks of hashed uint8 values, normalised."""
    n = np.arange(count, dtype=np.uint32)[:, None, None, None]
    c = np.arange(3, dtype=np.uint32)[None, :, None, None]
    y = (np.arange(height, dtype=np.uint32) // 4)[None, None, :, None]
    x = (np.arange(width, dtype=np.uint32) // 4)[None, None, None, :]
    with np.errstate(over='ignore'):
        h = (np.uint32(seed) * np.uint32(0x9E3779B1)) ^ (n * np.uint32(0x85EBCA77)) ^ (c * np.uint32(0xC2B2AE3D)) \
            ^ (y * np.uint32(0x27D4EB2F)) ^ (x * np.uint32(0x165667B1))
        h = h ^ (h >> np.uint32(15))
        h = h * np.uint32(0x2C1B3C6D)
        h = h ^ (h >> np.uint32(12))
        h = h * np.uint32(0x297A2D39)
        h = h ^ (h >> np.uint32(15))
    v = (h >> np.uint32(24)).astype(np.float32) / np.float32(255)
    return ((v - MEAN[None, :, None, None]) / STD[None, :, None, None]).astype(np.float32)


def build(kwargs, seed, num_labels):
    torch.manual_seed(seed)
    model = ResNetForImageClassification(ResNetConfig(num_labels=num_labels, **kwargs))
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    # Calibrate: running statistics = the statistics of a batch of random images.
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        model(torch.from_numpy(pixels(8, 224, 224, 1000 + seed)))
    model.eval()
    # Randomise every statistic and affine parameter around the calibrated values.
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in bns:
            c = m.num_features
            std = m.running_var.sqrt()
            m.running_mean += 0.3 * std * torch.randn(c, generator=g)
            m.running_var *= torch.exp(0.4 * torch.randn(c, generator=g))
            m.weight.copy_(0.5 + torch.rand(c, generator=g))
            m.bias.copy_(0.2 * torch.randn(c, generator=g))
    return model


def save(model, folder, config_json=None):
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    for stale in ('pytorch_model.bin',):
        if os.path.exists(os.path.join(folder, stale)):
            os.remove(os.path.join(folder, stale))
    if config_json is not None:
        with open(os.path.join(folder, 'config.json'), 'w') as f:
            json.dump(config_json, f, indent=2, sort_keys=True)
            f.write('\n')
    with open(os.path.join(folder, 'preprocessor_config.json'), 'w') as f:
        json.dump(PREPROCESSOR, f, indent=2, sort_keys=True)
        f.write('\n')


def vectors(folder, cases, out_name):
    model = ResNetForImageClassification.from_pretrained(folder).eval()
    torch.set_num_threads(2)
    for (h, w, count, seed) in cases:
        x = torch.from_numpy(pixels(count, h, w, seed))
        with torch.no_grad():
            v = model.resnet(x).pooler_output.flatten(1).numpy().astype('<f4')
            v64 = model.double().resnet(x.double()).pooler_output.flatten(1).numpy()
            model.float()
        cos64 = min(float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b)) for a, b in zip(v.astype(np.float64), v64))
        norms = np.linalg.norm(v, axis=1)
        u = v / norms[:, None]
        between = float((u @ u.T)[~np.eye(count, dtype=bool)].max()) if count > 1 else float('nan')
        path = out_name(h, w, count, seed)
        v.tofile(path)
        print(f'{os.path.relpath(path, REPO)}: {count}×{v.shape[1]}, |v| {norms.min():.3g}…{norms.max():.3g}, '
              f'fp32 vs fp64 cosine ≥ {cos64:.9f}, largest cosine between images {between:.4f}')


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else ''
    if what == 'full':
        folder = sys.argv[2] if len(sys.argv) > 2 else os.path.join(REPO, 'models', 'resnet-50-random')
        model = build(RESNET50, seed=50, num_labels=1000)
        config = dict(RESNET50, architectures=['ResNetForImageClassification'], model_type='resnet',
                      id2label={str(i): f'LABEL_{i}' for i in range(1000)},
                      label2id={f'LABEL_{i}': i for i in range(1000)}, torch_dtype='float32',
                      transformers_version='4.18.0.dev0')
        save(model, folder, config)
        gold = os.path.join(folder, 'golden')
        os.makedirs(gold, exist_ok=True)
        vectors(folder, FULL_CASES, lambda h, w, n, s: os.path.join(gold, f'{h}x{w}.n{n}.s{s}.f32'))
    elif what == 'tiny':
        for i, (name, kw) in enumerate(TINY.items()):
            folder = os.path.join(FIX, name)
            save(build(kw, seed=7 + i, num_labels=10), folder)
            vectors(folder, TINY_CASES, lambda h, w, n, s: os.path.join(FIX, f'{name}.{h}x{w}.n{n}.s{s}.f32'))
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
