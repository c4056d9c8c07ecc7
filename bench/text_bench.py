#!/usr/bin/env python3
"""One engine of the text benchmark (bench/text runs them all and prints the ratios).

    text_bench.py embedd --plugin PATH.so --model DIR [--precision fp32|bf16]
    text_bench.py torch  --model DIR
    text_bench.py onnx   --model DIR --onnx-dir DIR

Each engine embeds the same fortunes sentences at batch sizes 1, 8, 32, 128 on 2 threads and
prints one JSON line per batch size: {"engine", "batch", "sent_per_s", "p50_ms", "p99_ms"};
batch "short" is the short sentences (35-60 characters) one per call.
Environment: BENCH_SECONDS per batch size (4), BENCH_BATCHES (1,8,32,128,short), BENCH_THREADS (2).
The embedd engine drives libembedd-text.so in-process through its C ABI (ctypes), exactly as
the daemon's plugin host does.
"""
import argparse, ctypes as C, json, os, sys, time, zlib

THREADS = int(os.environ.get('BENCH_THREADS', '2'))


def sentences(n=1024):
    """Short real sentences: single-line fortunes of 20-160 characters."""
    base = '/usr/share/games/fortunes'
    out = []
    for name in sorted(os.listdir(base)):
        p = os.path.join(base, name)
        if '.' in name or not os.path.isfile(p): continue
        with open(p, encoding='utf-8', errors='replace') as f:
            for chunk in f.read().split('\n%\n'):
                s = ' '.join(chunk.split())
                if 20 <= len(s) <= 160: out.append(s)
    out.sort(key=lambda s: zlib.crc32(s.encode()))  # deterministic mix (not Python's salted hash), not by length
    return out[:n]


def short_sentences(texts):
    """The corpus's short sentences (35-60 characters, ~8-14 tokens): the set of the "one short
    sentence" latency target, as bench/serve's embed1 phase picks its sentence."""
    return [t for t in texts if 35 <= len(t) <= 60]


def measure(engine, fn, texts, batches=tuple(b if b == 'short' else int(b)
                                             for b in os.environ.get('BENCH_BATCHES', '1,8,32,128,short').split(',')),
            seconds=float(os.environ.get('BENCH_SECONDS', '4'))):
    """Prints one JSON line per batch size; "short" is short sentences alone, one per call."""
    points = [(b, short_sentences(texts) if b == 'short' else texts) for b in batches]
    for b, pool in points:
        n = 1 if b == 'short' else b
        fn(pool[:n])  # warm-up (primitive creation, allocator)
        fn(pool[:n])
        lat = []
        done = 0
        start = time.perf_counter()
        i = 0
        while time.perf_counter() - start < seconds or len(lat) < 5:
            batch = [pool[(i + k) % len(pool)] for k in range(n)]
            i += n
            t0 = time.perf_counter()
            fn(batch)
            lat.append(time.perf_counter() - t0)
            done += n
        total = time.perf_counter() - start
        lat.sort()
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
        print(json.dumps({'engine': engine, 'batch': b, 'sent_per_s': done / total, 'p50_ms': p(0.5), 'p99_ms': p(0.99)}), flush=True)


# ---- embedd through the plugin ABI (mirrors Sources/CEmbedABI/include/embedd_plugin.h) ----
LOGFN = C.CFUNCTYPE(None, C.c_void_p, C.c_int32, C.c_char_p)


class HostAPI(C.Structure):
    _fields_ = [('struct_size', C.c_uint32), ('abi_major', C.c_uint16), ('abi_minor', C.c_uint16),
                ('host_context', C.c_void_p), ('log', LOGFN)]


class Option(C.Structure):
    _fields_ = [('key', C.c_char_p), ('value', C.c_char_p)]


class Input(C.Structure):
    _fields_ = [('kind', C.c_uint32), ('reserved', C.c_uint32), ('data', C.c_char_p), ('size', C.c_size_t),
                ('mime_type', C.c_char_p), ('width', C.c_uint32), ('height', C.c_uint32),
                ('sample_rate', C.c_uint32), ('channels', C.c_uint32)]


class InputStatus(C.Structure):
    _fields_ = [('status', C.c_int32), ('message', C.c_char * 256)]


class Request(C.Structure):
    _fields_ = [('struct_size', C.c_uint32), ('count', C.c_uint32), ('inputs', C.POINTER(Input)),
                ('output', C.POINTER(C.c_float)), ('statuses', C.POINTER(InputStatus)),
                ('cancel', C.POINTER(C.c_uint32)), ('error', C.c_char_p), ('error_capacity', C.c_size_t)]


class ModelInfo(C.Structure):
    _fields_ = [('struct_size', C.c_uint32), ('reserved', C.c_uint32), ('name', C.c_char_p), ('version', C.c_char_p),
                ('embedding_space', C.c_char_p), ('modalities', C.c_uint32), ('input_kinds', C.c_uint32),
                ('mime_types', C.c_void_p), ('mime_type_count', C.c_uint32), ('dim', C.c_uint32),
                ('metric', C.c_uint32), ('normalized', C.c_uint32), ('max_tokens', C.c_uint32),
                ('max_pixels', C.c_uint32), ('max_seconds', C.c_double), ('max_input_bytes', C.c_uint64),
                ('preferred_batch', C.c_uint32), ('max_batch', C.c_uint32), ('concurrent', C.c_uint32),
                ('batch_tolerance', C.c_float)]


INIT = C.CFUNCTYPE(C.c_int32, C.POINTER(HostAPI), C.POINTER(C.c_void_p), C.c_char_p, C.c_size_t)
FINALIZE = C.CFUNCTYPE(None, C.c_void_p)
LOAD = C.CFUNCTYPE(C.c_int32, C.c_void_p, C.c_char_p, C.POINTER(Option), C.c_size_t, C.POINTER(C.c_void_p), C.c_char_p, C.c_size_t)
DESCRIBE = C.CFUNCTYPE(C.POINTER(ModelInfo), C.c_void_p)
EMBED = C.CFUNCTYPE(C.c_int32, C.c_void_p, C.POINTER(Request))
RELEASE = C.CFUNCTYPE(None, C.c_void_p)


class Descriptor(C.Structure):
    _fields_ = [('struct_size', C.c_uint32), ('abi_major', C.c_uint16), ('abi_minor', C.c_uint16),
                ('name', C.c_char_p), ('version', C.c_char_p), ('description', C.c_char_p),
                ('flags', C.c_uint32), ('reserved', C.c_uint32), ('init', INIT), ('finalize', FINALIZE),
                ('load_model', LOAD), ('describe_model', DESCRIBE), ('embed', EMBED), ('release_model', RELEASE)]


class EmbeddPlugin:
    def __init__(self, so, model_dir, options):
        # The daemon's OpenMP setting (Daemon.openMPSpinCount), read by libgomp as the plugin
        # loads it: the in-process peer runs the plugin as the daemon does.
        if 'GOMP_SPINCOUNT' not in os.environ and 'OMP_WAIT_POLICY' not in os.environ:
            os.environ['GOMP_SPINCOUNT'] = '1000'
        lib = C.CDLL(so)
        lib.embedd_plugin_entry.restype = C.POINTER(Descriptor)
        self.d = lib.embedd_plugin_entry().contents
        self._log = LOGFN(lambda ctx, level, msg: print(f'[plugin {level}] {msg.decode()}', file=sys.stderr))
        host = HostAPI(C.sizeof(HostAPI), 1, 0, None, self._log)
        self.plugin = C.c_void_p()
        err = C.create_string_buffer(256)
        assert self.d.init(C.byref(host), C.byref(self.plugin), err, 256) == 0, err.value
        opts = (Option * len(options))(*[Option(k.encode(), v.encode()) for k, v in options.items()])
        self.model = C.c_void_p()
        rc = self.d.load_model(self.plugin, model_dir.encode(), opts, len(options), C.byref(self.model), err, 256)
        if rc != 0: raise RuntimeError(f'load_model: {err.value.decode()}')
        self.info = self.d.describe_model(self.model).contents
        self.dim = self.info.dim

    def embed(self, texts):
        n = len(texts)
        raw = [t.encode() for t in texts]
        inputs = (Input * n)(*[Input(1, 0, r, len(r), None, 0, 0, 0, 0) for r in raw])
        out = (C.c_float * (n * self.dim))()
        statuses = (InputStatus * n)()
        cancel = C.c_uint32(0)
        err = C.create_string_buffer(256)
        req = Request(C.sizeof(Request), n, inputs, out, statuses, C.pointer(cancel), C.cast(err, C.c_char_p), 256)
        rc = self.d.embed(self.model, C.byref(req))
        if rc != 0: raise RuntimeError(f'embed: {rc} {err.value.decode()}')
        return out

    def close(self):
        self.d.release_model(self.model)
        self.d.finalize(self.plugin)


def run_embedd(a, texts):
    p = EmbeddPlugin(a.plugin, a.model, {'precision': a.precision, 'threads': str(THREADS)})
    measure(f'embedd-{a.precision}', p.embed, texts)
    p.close()


def run_torch(a, texts):
    import torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(THREADS)
    m = SentenceTransformer(a.model, device='cpu')
    with torch.inference_mode():
        measure('pytorch', lambda b: m.encode(b, batch_size=len(b), convert_to_numpy=True), texts)


def export_onnx(model_dir, path):
    import torch
    from transformers import AutoModel, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir)
    m = AutoModel.from_pretrained(model_dir).eval()
    enc = tok(['a sentence to trace', 'another'], padding=True, return_tensors='pt')
    args = (enc['input_ids'], enc['attention_mask'])
    dyn = {'input_ids': {0: 'b', 1: 's'}, 'attention_mask': {0: 'b', 1: 's'}, 'last_hidden_state': {0: 'b', 1: 's'}}
    class Wrap(torch.nn.Module):
        def __init__(self, m): super().__init__(); self.m = m
        def forward(self, input_ids, attention_mask): return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    try:
        torch.onnx.export(Wrap(m), args, path, input_names=['input_ids', 'attention_mask'], output_names=['last_hidden_state'],
                          dynamic_axes=dyn, opset_version=17, dynamo=False)
    except TypeError:
        torch.onnx.export(Wrap(m), args, path, input_names=['input_ids', 'attention_mask'], output_names=['last_hidden_state'],
                          dynamic_axes=dyn, opset_version=17)


def run_onnx(a, texts):
    import numpy as np, onnxruntime as ort
    from transformers import AutoTokenizer
    os.makedirs(a.onnx_dir, exist_ok=True)
    path = os.path.join(a.onnx_dir, os.path.basename(a.model.rstrip('/')) + '.onnx')
    if not os.path.exists(path): export_onnx(a.model, path)
    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])
    tok = AutoTokenizer.from_pretrained(a.model)
    max_len = json.load(open(os.path.join(a.model, 'sentence_bert_config.json')))['max_seq_length']

    def embed(batch):
        enc = tok(batch, padding=True, truncation=True, max_length=max_len, return_tensors='np')
        ids, mask = enc['input_ids'].astype('int64'), enc['attention_mask'].astype('int64')
        h = sess.run(None, {'input_ids': ids, 'attention_mask': mask})[0]
        m = mask[..., None].astype(np.float32)
        v = (h * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    measure('onnxruntime', embed, texts)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('engine', choices=['embedd', 'torch', 'onnx'])
    ap.add_argument('--model', required=True)
    ap.add_argument('--plugin')
    ap.add_argument('--precision', default='fp32')
    ap.add_argument('--onnx-dir', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data'))
    a = ap.parse_args()
    texts = sentences()
    {'embedd': run_embedd, 'torch': run_torch, 'onnx': run_onnx}[a.engine](a, texts)
