#!/usr/bin/env python3
"""One peer engine of the CLIP benchmark (bench/clip runs them all with embedd's clip-bench and
prints the ratios).

    clip_bench.py torch --model DIR [--towers image,text]
    clip_bench.py onnx  --model DIR [--onnx-dir DIR] [--towers image,text]

The two towers alone, as `transformers` runs them: `CLIPModel.get_image_features` on random
normalised pixels of 3×S×S (S = the model's image_size) and `CLIPModel.get_text_features` on
query-length texts (QUERIES: captions of 8-13 tokens with the start and end tokens, tokenized
before the clock starts, padded to the longest in each batch with an attention_mask as
`tokenizer(texts, padding=True)` does — not to 77 as openai's own code pads); eval mode,
no_grad, fp32. ONNX Runtime runs the same two functions exported with torch.onnx.export (dynamic
batch, and dynamic length for text), each checked against PyTorch first.

One JSON line per tower and batch size:
  {"engine", "tower": "image" | "text", "batch", "per_s", "p50_ms", "p99_ms", "tokens",
   "gflop_per_item"}
per_s counts images or texts; tokens is the sequence length run (image: patches + 1; text: the
mean padded length); gflop_per_item counts 2 FLOP per multiply-add (as bench/fma-peak.c does),
from the config and those lengths (`flops()`).
Environment: BENCH_SECONDS per point (4), BENCH_BATCHES (1,16), BENCH_THREADS (2).
"""
import argparse, json, os, sys, time

import numpy as np

THREADS = int(os.environ.get('BENCH_THREADS', '2'))
BATCHES = [int(b) for b in os.environ.get('BENCH_BATCHES', '1,16').split(',')]
SECONDS = float(os.environ.get('BENCH_SECONDS', '4'))

# What people type into a photo search: 6-10 words, 8-13 tokens with the start and end tokens (mean 9.6).
QUERIES = [
    "a brown dog playing in the fresh snow", "sunset over the ocean with two sailboats", "a red car parked on a narrow street",
    "children playing football in a city park", "a plate of pasta with tomato sauce and basil", "green mountains covered in morning fog",
    "a cat sleeping on a laptop keyboard", "people walking through a busy night market", "an old wooden bridge over a small river",
    "a bowl of fresh strawberries and cream", "the city skyline at night from the harbour", "a woman riding a horse on the beach",
    "birthday party with balloons and a chocolate cake", "a black and white portrait of an old man", "a snowy pine forest in winter",
    "a single yellow flower in a green field", "a small boat on a calm lake at dawn", "my kids at the zoo looking at giraffes",
    "a screenshot of a spreadsheet with numbers", "a receipt from an italian restaurant", "fireworks over the harbour on new year",
    "a cup of coffee on a wooden table", "a blue bicycle leaning against a brick wall", "our wedding cake decorated with roses",
    "a white lighthouse on a rocky cliff", "a close-up of a bee on a purple flower", "rain drops running down a window",
    "a crowded train station in the morning", "an empty road through the red desert", "a puppy chewing on an old shoe",
    "the northern lights over a frozen lake", "a paper map of the hiking trail",
]


def flops(cfg, tower, tokens):
    """FLOP (2 per multiply-add) of one item through a tower at `tokens` positions: the
    projections and MLP of every layer, the attention products (full T×T: the frameworks compute
    the masked half too), the patch embedding (image) and the final projection."""
    c = cfg.vision_config if tower == 'image' else cfg.text_config
    d, ff, layers = c.hidden_size, c.intermediate_size, c.num_hidden_layers
    macs = layers * (tokens * (4 * d * d + 2 * d * ff) + 2 * tokens * tokens * d) + d * cfg.projection_dim
    if tower == 'image':
        macs += (tokens - 1) * 3 * c.patch_size ** 2 * d
    return 2 * macs / 1e9


def measure(engine, tower, make_inputs, fn, tokens, gflop):
    """make_inputs(batch) → a list of inputs that fn runs round-robin; one JSON line per batch."""
    for b in BATCHES:
        inputs = make_inputs(b)
        fn(inputs[0])  # warm-up (allocator, kernel selection)
        fn(inputs[0])
        lat = []
        start = time.perf_counter()
        while time.perf_counter() - start < SECONDS or len(lat) < 5:
            x = inputs[len(lat) % len(inputs)]
            t0 = time.perf_counter()
            fn(x)
            lat.append(time.perf_counter() - t0)
        total = time.perf_counter() - start
        lat.sort()
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
        t = tokens(inputs)
        print(json.dumps({'engine': engine, 'tower': tower, 'batch': b, 'per_s': b * len(lat) / total,
                          'p50_ms': p(0.5), 'p99_ms': p(0.99), 'tokens': round(t, 2), 'gflop_per_item': gflop(t)}),
              flush=True)


def load(model_dir):
    import torch
    from transformers import AutoTokenizer, CLIPModel
    torch.set_num_threads(THREADS)
    return CLIPModel.from_pretrained(model_dir).eval(), AutoTokenizer.from_pretrained(model_dir)


def image_batches(size):
    rng = np.random.default_rng(1)
    return lambda b: [rng.uniform(-1.8, 2.2, size=(b, 3, size, size)).astype(np.float32) for _ in range(2)]


def text_batches(tok):
    """All batches of QUERIES round-robin, tokenized up front: {'input_ids', 'attention_mask'} int64."""
    def make(b):
        out = []
        for i in range(0, max(len(QUERIES), b), b):
            texts = [QUERIES[(i + k) % len(QUERIES)] for k in range(b)]
            enc = tok(texts, padding=True, return_tensors='np')
            out.append({'input_ids': enc['input_ids'].astype(np.int64), 'attention_mask': enc['attention_mask'].astype(np.int64)})
        return out
    return make


def mean_len(inputs):
    return float(np.mean([x['input_ids'].shape[1] for x in inputs]))


class _Image:
    def __init__(self, model):
        self.model = model

    def __call__(self, pixel_values):
        return self.model.get_image_features(pixel_values=pixel_values).pooler_output


class _Text:
    def __init__(self, model):
        self.model = model

    def __call__(self, input_ids, attention_mask):
        return self.model.get_text_features(input_ids=input_ids, attention_mask=attention_mask).pooler_output


def onnx_sessions(model, tok, onnx_dir, towers):
    """ONNX Runtime sessions (THREADS intra-op threads) for the towers, exported into onnx_dir
    (default: a temporary folder) with torch.onnx.export and checked against PyTorch."""
    import tempfile
    import torch
    import onnxruntime as ort

    class Wrap(torch.nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn
            self.m = fn.model

        def forward(self, *args):
            return self.fn(*args)

    onnx_dir = onnx_dir or tempfile.mkdtemp(prefix='embedd-clip-onnx-')
    os.makedirs(onnx_dir, exist_ok=True)
    size = model.config.vision_config.image_size
    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sessions = {}
    def example(tower, i):
        """Inputs of two different shapes: the export's example (i = 0) and a check (i = 1) —
        the traced graph must not have baked in the example's batch size or text length."""
        if tower == 'image':
            return {'pixel_values': np.random.default_rng(2 + i).uniform(-1.8, 2.2, size=(2 + 3 * i, 3, size, size)).astype(np.float32)}
        enc = tok(QUERIES[:3] if i == 0 else QUERIES[10:14] + ['a photo', 'a long caption: ' + ' and '.join(QUERIES[20:23])], padding=True, return_tensors='np')
        return {k: enc[k].astype(np.int64) for k in ('input_ids', 'attention_mask')}

    for tower in towers:
        path = os.path.join(onnx_dir, f'clip-{tower}.onnx')
        if tower == 'image':
            fn, names, axes = _Image(model), ['pixel_values'], {'pixel_values': {0: 'n'}}
        else:
            fn, names, axes = _Text(model), ['input_ids', 'attention_mask'], {k: {0: 'n', 1: 'seq'} for k in ('input_ids', 'attention_mask')}
        xs = [example(tower, 0), example(tower, 1)]
        # The reference outputs, taken before the export.
        with torch.no_grad():
            wants = [fn(*[torch.from_numpy(x[k]) for k in names]).numpy() for x in xs]
        if not os.path.exists(path):
            with torch.no_grad():
                torch.onnx.export(Wrap(fn), tuple(torch.from_numpy(xs[0][k]) for k in names), path, input_names=names,
                                  output_names=['features'], dynamic_axes=dict(axes, features={0: 'n'}),
                                  opset_version=17, dynamo=False)
        sess = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
        cos = min(float(np.dot(g, w) / np.linalg.norm(g) / np.linalg.norm(w))
                  for x, want in zip(xs, wants) for g, w in zip(sess.run(None, x)[0], want))
        shapes = ' and '.join('×'.join(map(str, x[names[0]].shape)) for x in xs)
        print(f'onnxruntime {ort.__version__}: exported {tower} tower vs PyTorch at {shapes}: cosine ≥ {cos:.7f}', file=sys.stderr)
        if cos < 0.9999:
            sys.exit(f'the exported {tower} tower does not compute what transformers does (cosine {cos})')
        sessions[tower] = sess
    return sessions


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('engine', choices=['torch', 'onnx'])
    ap.add_argument('--model', required=True)
    ap.add_argument('--onnx-dir', default=None, help='where the exported towers go (default: a temporary folder)')
    ap.add_argument('--towers', default='image,text')
    a = ap.parse_args()
    towers = a.towers.split(',')
    import torch
    model, tok = load(a.model)
    size = model.config.vision_config.image_size
    patches = (size // model.config.vision_config.patch_size) ** 2 + 1
    image_gflop = lambda t: flops(model.config, 'image', t)
    text_gflop = lambda t: flops(model.config, 'text', t)
    if a.engine == 'torch':
        image, text = _Image(model), _Text(model)

        def run_image(x):
            with torch.no_grad():
                return image(torch.from_numpy(x))

        def run_text(x):
            with torch.no_grad():
                return text(torch.from_numpy(x['input_ids']), torch.from_numpy(x['attention_mask']))
        engine = 'pytorch'
    else:
        sessions = onnx_sessions(model, tok, a.onnx_dir, towers)
        run_image = lambda x: sessions['image'].run(None, {'pixel_values': x})
        run_text = lambda x: sessions['text'].run(None, x)
        engine = 'onnxruntime'
    if 'image' in towers:
        measure(engine, 'image', image_batches(size), run_image, lambda _: patches, image_gflop)
    if 'text' in towers:
        measure(engine, 'text', text_batches(tok), run_text, mean_len, text_gflop)


if __name__ == '__main__':
    main()
