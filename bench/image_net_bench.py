#!/usr/bin/env python3
"""One peer engine of the ResNet network benchmark (bench/image-net runs them all with embedd's
image-net-bench and prints the ratios).

    image_net_bench.py torch --model DIR
    image_net_bench.py onnx  --model DIR [--onnx FILE]

The network alone, as `transformers` runs it: `ResNetModel` (the `resnet` of the folder's
`ResNetForImageClassification`) to `pooler_output`, eval mode, no_grad, fp32, on random
normalised pixels of 3×SIZE×SIZE; ONNX Runtime runs the same module exported with
torch.onnx.export (dynamic batch). One JSON line per batch size:
{"engine", "batch", "img_per_s", "p50_ms", "p99_ms"}.
Environment: BENCH_SECONDS per batch size (4), BENCH_BATCHES (1,8,32), BENCH_THREADS (2), BENCH_SIZE (224).
"""
import argparse, json, os, sys, time

import numpy as np

THREADS = int(os.environ.get('BENCH_THREADS', '2'))
SIZE = int(os.environ.get('BENCH_SIZE', '224'))
BATCHES = [int(b) for b in os.environ.get('BENCH_BATCHES', '1,8,32').split(',')]
SECONDS = float(os.environ.get('BENCH_SECONDS', '4'))


def measure(engine, fn):
    rng = np.random.default_rng(1)
    for b in BATCHES:
        x = rng.uniform(-2, 2.1, size=(b, 3, SIZE, SIZE)).astype(np.float32)
        fn(x)  # warm-up (allocator, kernel selection)
        fn(x)
        lat = []
        start = time.perf_counter()
        while time.perf_counter() - start < SECONDS or len(lat) < 5:
            t0 = time.perf_counter()
            fn(x)
            lat.append(time.perf_counter() - t0)
        total = time.perf_counter() - start
        lat.sort()
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
        print(json.dumps({'engine': engine, 'batch': b, 'img_per_s': b * len(lat) / total, 'p50_ms': p(0.5), 'p99_ms': p(0.99)}), flush=True)


def load(model_dir):
    import torch
    from transformers import ResNetForImageClassification
    torch.set_num_threads(THREADS)
    return ResNetForImageClassification.from_pretrained(model_dir).resnet.eval()


def onnx_session(net, path=None):
    """An ONNX Runtime session (THREADS intra-op threads) for `net` (transformers' ResNetModel)
    exported to `path` (default: a temporary file), checked against PyTorch on random pixels."""
    import torch
    import onnxruntime as ort
    import tempfile

    class Pooled(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, pixel_values):
            return self.m(pixel_values).pooler_output.flatten(1)

    # The reference output, taken before the export (a traced export left this module giving
    # different vectors afterwards in one try).
    x = np.random.default_rng(2).uniform(-2, 2.1, size=(2, 3, SIZE, SIZE)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).pooler_output.flatten(1).numpy()
    path = path or os.path.join(tempfile.mkdtemp(prefix='embedd-resnet-onnx-'), 'resnet.onnx')
    if not os.path.exists(path):
        with torch.no_grad():
            torch.onnx.export(Pooled(net), torch.zeros(1, 3, SIZE, SIZE), path, input_names=['pixel_values'],
                              output_names=['pooled'], dynamic_axes={'pixel_values': {0: 'n'}, 'pooled': {0: 'n'}},
                              opset_version=17, dynamo=False)
    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    # The exported graph must compute what transformers does (within fp32 rounding).
    got = sess.run(None, {'pixel_values': x})[0]
    cos = min(float(np.dot(g, w) / np.linalg.norm(g) / np.linalg.norm(w)) for g, w in zip(got, want))
    print(f'onnxruntime {ort.__version__}: exported graph vs PyTorch cosine {cos:.7f}', file=sys.stderr)
    return sess


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('engine', choices=['torch', 'onnx'])
    ap.add_argument('--model', required=True)
    ap.add_argument('--onnx', default=None, help='exported model path (default: a temporary file)')
    a = ap.parse_args()
    import torch
    net = load(a.model)
    if a.engine == 'torch':
        def run(x):
            with torch.no_grad():
                return net(torch.from_numpy(x)).pooler_output
        measure('pytorch', run)
        return
    sess = onnx_session(net, a.onnx)
    measure('onnxruntime', lambda x: sess.run(None, {'pixel_values': x}))


if __name__ == '__main__':
    main()
