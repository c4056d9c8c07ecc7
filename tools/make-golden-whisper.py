#!/usr/bin/env python3
"""A tiny random Whisper model and encoder goldens for embedd's Whisper encoder (transformers, fp32).

    /work/venv-ref/bin/python tools/make-golden-whisper.py tiny OUTDIR
        # the tiny model committed as Tests/Fixtures/audio/whisper-tiny
    /work/venv-ref/bin/python tools/make-golden-whisper.py golden MODELDIR OUT.json
        # encoder goldens for any HF Whisper folder (tiny fixture or models/whisper-base)

`tiny` builds `transformers.WhisperModel` (encoder and decoder) from a seeded `WhisperConfig`:
num_mel_bins 80, d_model 64, 2 encoder layers with 4 heads and FFN 128, 1 decoder layer with 4
heads and FFN 128, vocab_size 64, max_source_positions 1500, max_target_positions 32, activation
"gelu" (erf GELU). Then every tensor is made non-trivial (`randomise`), so a wrong implementation
cannot pass by luck:
  * every LayerNorm weight from U(0.7, 1.3), bias from N(0, 0.1²) (a fresh init has 1 and 0,
    which hides a skipped or misplaced LayerNorm);
  * every Linear / Conv1d bias from N(0, 0.05²) (fresh inits have zeros or tiny values, which
    hide a dropped bias). Whisper's k_proj has no bias (`bias=False`): there is none to set;
  * q_proj/k_proj weights ×3 (sharper, content-dependent attention), out_proj/fc2 ×2 (residual
    branches that matter), conv1/conv2 ×8 (with HF's init the convolutions' output has RMS ≈ 0.03
    against ≈ 0.6 for the position table, and every input pools to nearly the same vector; ×8
    brings it to ≈ 1);
  * the encoder's `embed_positions` (a fixed sinusoid table in Whisper, shipped in every
    checkpoint's weights) plus N(0, 0.02²) noise: an implementation must read the table from
    model.safetensors, as it must for real checkpoints, not recompute the sinusoids (the real
    whisper-base table equals the sinusoids only to fp16 rounding);
  * the decoder's token and position embeddings from N(0, 0.5²).
The folder holds config.json + model.safetensors (`save_pretrained`, fp32), and the
preprocessor_config.json `WhisperFeatureExtractor(feature_size=80).save_pretrained` writes.

`golden` runs `model.encoder(input_features)` (fp32, eval, no grad) on SYNTHETIC, deterministic
input features that a test can rebuild exactly:

    x[m][t] = float32(0.6*sin(0.013*(t+1)*(m+1)) + 0.25*cos(0.7*m + 0.002*t) - 0.1)

for mel bin m in 0..<n_mels and frame t in 0..<3000, computed in float64 then cast to float32
(`synthetic_features`). Shape [1, n_mels, 3000] as the encoder takes it (3000 mel frames = 30 s;
the two stride-1 / stride-2 convolutions make 1500 encoder frames).

The JSON (all floats are the float32 values written as decimal):
  {"format": 1, "model": basename of MODELDIR, "d_model", "n_mels", "encoder_layers",
   "encoder_attention_heads", "frames": 1500, "versions": {...},
   "features": "the formula above",
   "inputs": [
     {"name": "synthetic", "batch": 1, "items": [ITEM]},
     {"name": "synthetic+reversed", "batch": 2, "items": [ITEM, ITEM]}]}
  ITEM = {"features": "synthetic" | "synthetic-reversed"   (x[m][2999 - t], the frames reversed),
          "pooled": [{"frames": F, "vector": [d_model floats]} for F in 1500, 873, 1],
          "rows": {"0": [...], "1": [...], "2": [...], "3": [...], "873": [...]}}
Pooling: `pooled` is the mean of last_hidden_state rows 0..<F, then divided by its L2 norm; the
sum, mean and norm are computed in float64 from the float32 hidden states, the result rounded to
float32. `rows` are un-pooled last_hidden_state rows (after the encoder's final layer norm), for
debugging. The batch-of-2 input runs both items in one forward, so batching is tested; each item
must also equal what it gives alone (the script checks this: max |Δ| printed, 0 on the tiny model).
On the tiny model the cosine between the two items' pooled vectors is 0.999 over 1500 frames
(reversing the frames keeps their statistics, and a 2-layer model is mostly local), 0.889 over
873 and 0.478 over 1: compare the rows and the shorter pools too, not only the 1500-frame pool.
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
import torch

N_FRAMES = 3000
POOL_FRAMES = [1500, 873, 1]
DEBUG_ROWS = [0, 1, 2, 3, 873]


def tiny_config():
    from transformers import WhisperConfig

    return WhisperConfig(
        vocab_size=64,
        num_mel_bins=80,
        d_model=64,
        encoder_layers=2,
        encoder_attention_heads=4,
        encoder_ffn_dim=128,
        decoder_layers=1,
        decoder_attention_heads=4,
        decoder_ffn_dim=128,
        max_source_positions=1500,
        max_target_positions=32,
        activation_function="gelu",
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
        begin_suppress_tokens=None,
        suppress_tokens=None,
        scale_embedding=False,
    )


@torch.no_grad()
def randomise(model, gen: torch.Generator) -> None:
    """Make every tensor non-trivial (see the module docstring)."""

    def normal(shape, std):
        return torch.randn(shape, generator=gen) * std

    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.LayerNorm):
            mod.weight.copy_(torch.rand(mod.weight.shape, generator=gen) * 0.6 + 0.7)
            mod.bias.copy_(normal(mod.bias.shape, 0.1))
        elif isinstance(mod, (torch.nn.Linear, torch.nn.Conv1d)):
            if mod.bias is not None:
                mod.bias.copy_(normal(mod.bias.shape, 0.05))
            leaf = name.rsplit(".", 1)[-1]
            if leaf in ("q_proj", "k_proj"):
                mod.weight.mul_(3.0)
            elif leaf in ("out_proj", "fc2"):
                mod.weight.mul_(2.0)
            elif leaf in ("conv1", "conv2"):
                mod.weight.mul_(8.0)
    enc = model.encoder
    enc.embed_positions.weight.add_(normal(enc.embed_positions.weight.shape, 0.02))
    dec = model.decoder
    dec.embed_tokens.weight.copy_(normal(dec.embed_tokens.weight.shape, 0.5))
    dec.embed_positions.weight.copy_(normal(dec.embed_positions.weight.shape, 0.5))


def cmd_tiny(outdir: str) -> None:
    from transformers import WhisperFeatureExtractor, WhisperModel

    torch.manual_seed(2101)
    model = WhisperModel(tiny_config()).eval()
    randomise(model, torch.Generator().manual_seed(2102))
    # Every tensor must be non-trivial: no all-zero bias, no all-one gamma.
    for name, t in model.state_dict().items():
        if torch.all(t == 0) or torch.all(t == 1):
            sys.exit(f"make-golden-whisper: {name} is trivial after randomise()")
    os.makedirs(outdir, exist_ok=True)
    model.save_pretrained(outdir, safe_serialization=True)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(outdir)
    # save_pretrained may add a generation_config.json; the fixture keeps what the plugin reads.
    gen_cfg = os.path.join(outdir, "generation_config.json")
    if os.path.exists(gen_cfg):
        os.remove(gen_cfg)
    # Load it back: no missing / unexpected keys, same tensors.
    back, info = WhisperModel.from_pretrained(outdir, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    if bad:
        sys.exit(f"make-golden-whisper: reloading {outdir} reports {bad}")
    sd, sd2 = model.state_dict(), back.state_dict()
    for k in sd:
        if not torch.equal(sd[k], sd2[k]):
            sys.exit(f"make-golden-whisper: {k} differs after reload")
    size = os.path.getsize(os.path.join(outdir, "model.safetensors"))
    print(f"make-golden-whisper: wrote {outdir} (model.safetensors {size} bytes, {len(sd)} tensors)")


def synthetic_features(n_mels: int, frames: int = N_FRAMES) -> np.ndarray:
    """x[m][t] = float32(0.6*sin(0.013*(t+1)*(m+1)) + 0.25*cos(0.7*m + 0.002*t) - 0.1), float64 math."""
    m = np.arange(n_mels, dtype=np.float64)[:, None]
    t = np.arange(frames, dtype=np.float64)[None, :]
    x = 0.6 * np.sin(0.013 * (t + 1) * (m + 1)) + 0.25 * np.cos(0.7 * m + 0.002 * t) - 0.1
    return x.astype(np.float32)


def pool(hidden: np.ndarray, frames: int) -> np.ndarray:
    """Mean of rows 0..<frames (float64 from float32 values), L2-normalised, rounded to float32."""
    v = hidden[:frames].astype(np.float64).mean(axis=0)
    return (v / np.linalg.norm(v)).astype(np.float32)


def floats(a) -> list:
    return [float(x) for x in np.asarray(a, dtype=np.float32)]


def item_json(feature_name: str, hidden: np.ndarray) -> dict:
    return {
        "features": feature_name,
        "pooled": [{"frames": f, "vector": floats(pool(hidden, f))} for f in POOL_FRAMES],
        "rows": {str(r): floats(hidden[r]) for r in DEBUG_ROWS},
    }


def cmd_golden(modeldir: str, out: str) -> None:
    import transformers
    from transformers import WhisperModel

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model, info = WhisperModel.from_pretrained(modeldir, torch_dtype=torch.float32, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    if bad:
        print(f"make-golden-whisper: warning: loading {modeldir} reports {bad}", file=sys.stderr)
    model.eval()
    cfg = model.config
    x = synthetic_features(cfg.num_mel_bins)
    xr = np.ascontiguousarray(x[:, ::-1])
    with torch.no_grad():
        h1 = model.encoder(torch.from_numpy(x)[None]).last_hidden_state[0].numpy()
        hb = model.encoder(torch.from_numpy(np.stack([x, xr]))).last_hidden_state.numpy()
        hr = model.encoder(torch.from_numpy(xr)[None]).last_hidden_state[0].numpy()
    assert h1.shape == (N_FRAMES // 2, cfg.d_model), h1.shape
    print(f"make-golden-whisper: batch-2 vs batch-1 max |Δ| = {np.abs(hb[0] - h1).max():.3g}, "
          f"{np.abs(hb[1] - hr).max():.3g}; |hidden| max {np.abs(h1).max():.3g}")
    cs = ", ".join(f"{f}: {float(np.dot(pool(h1, f), pool(hr, f))):.4f}" for f in POOL_FRAMES)
    print(f"make-golden-whisper: cosine(synthetic, reversed) pooled over F frames: {cs}")
    doc = {
        "format": 1,
        "model": os.path.basename(os.path.normpath(modeldir)),
        "d_model": cfg.d_model,
        "n_mels": cfg.num_mel_bins,
        "encoder_layers": cfg.encoder_layers,
        "encoder_attention_heads": cfg.encoder_attention_heads,
        "frames": N_FRAMES // 2,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__},
        "features": "x[m][t] = float32(0.6*sin(0.013*(t+1)*(m+1)) + 0.25*cos(0.7*m + 0.002*t) - 0.1), "
                    "float64 math, m in 0..<n_mels, t in 0..<3000; 'synthetic-reversed' is x[m][2999-t]",
        "pooling": "mean of last_hidden_state rows 0..<frames (float64), L2-normalised, float32",
        "inputs": [
            {"name": "synthetic", "batch": 1, "items": [item_json("synthetic", h1)]},
            {"name": "synthetic+reversed", "batch": 2,
             "items": [item_json("synthetic", hb[0]), item_json("synthetic-reversed", hb[1])]},
        ],
    }
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, out)
    print(f"make-golden-whisper: wrote {out} ({os.path.getsize(out)} bytes)")


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[1] == "tiny":
        cmd_tiny(argv[2])
    elif len(argv) == 4 and argv[1] == "golden":
        cmd_golden(argv[2], argv[3])
    else:
        sys.exit(__doc__.split("\n\n")[1])


if __name__ == "__main__":
    main(sys.argv)
