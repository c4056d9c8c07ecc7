"""Tests of tools/convert-ct2-whisper (python3 + numpy only, as CI runs them).

    /usr/bin/python3 -m unittest discover -s tools/tests -p 'test_convert_ct2_whisper.py' -v

A small Whisper model is written in CTranslate2's real binary format by `write_ct2` (which
follows python/ctranslate2/specs/model_spec.py `_serialize`: variables in name order, then the
aliases), converted, and every Hugging Face tensor checked against the values it was built from,
the fused projections' split included. Broken inputs (truncated at many offsets, trailing
bytes, another spec, quantized weights, a non-zero k bias, a missing or unknown tensor) must fail
with a ConversionError that names the problem and leave no output folder. When
models/whisper-base-ct2 exists (tools/fetch-models), the real model is converted into a temporary
folder and every tensor compared with the CTranslate2 file's, widened to float32
($EMBEDD_MODELS_DIR/whisper-base-ct2 when that variable is set).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import re
import struct
import tempfile
import unittest

import numpy as np

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TOOLS)
# tools/fetch-models' folder (tools/install-deps passes EMBEDD_MODELS_DIR to it).
REAL_CT2 = os.path.join(os.environ.get("EMBEDD_MODELS_DIR") or os.path.join(REPO, "models"), "whisper-base-ct2")


def load_converter():
    path = os.path.join(TOOLS, "convert-ct2-whisper")
    loader = importlib.machinery.SourceFileLoader("convert_ct2_whisper", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


conv = load_converter()

TYPE_IDS = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "float16": 4, "bfloat16": 5}


def write_ct2(path: str, variables: dict, aliases: dict, spec: str = "WhisperSpec",
              revision: int = 3, version: int = 6) -> None:
    """model_spec.py `_serialize`: name-ordered variables, then aliases; bfloat16 as (name, uint16 array)."""

    def string(f, s):
        b = s.encode("utf-8")
        f.write(struct.pack("<H", len(b) + 1) + b + b"\0")

    with open(path, "wb") as f:
        f.write(struct.pack("<I", version))
        string(f, spec)
        f.write(struct.pack("<I", revision))
        f.write(struct.pack("<I", len(variables)))
        for name in sorted(variables):
            value = variables[name]
            if isinstance(value, tuple):  # ("bfloat16", raw uint16 array)
                dtype, a = value
            else:
                a = np.asarray(value)
                dtype = a.dtype.name
            string(f, name)
            f.write(struct.pack("<B", a.ndim))
            for d in a.shape:
                f.write(struct.pack("<I", d))
            f.write(struct.pack("<B", TYPE_IDS[dtype]))
            raw = np.ascontiguousarray(a).tobytes()
            f.write(struct.pack("<I", len(raw)))
            f.write(raw)
        f.write(struct.pack("<I", len(aliases)))
        for alias, target in aliases.items():
            string(f, alias)
            string(f, target)


def read_safetensors(path: str) -> dict:
    """A strict reader: u64 header length, JSON header, contiguous F32 data."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack_from("<Q", blob, 0)
    assert n % 8 == 0, "header length should be a multiple of 8"
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    data = blob[8 + n:]
    out, end = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        assert info["dtype"] == "F32", name
        b, e = info["data_offsets"]
        assert b == end, f"{name} does not follow the previous tensor"
        end = e
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"])
    assert end == len(data), "data section has unused bytes"
    return out


class Tiny:
    """A small Whisper in CTranslate2's layout: d 8, 2 heads, 6 mels, 2 encoder + 1 decoder layers."""

    D, MELS, FFN, VOCAB, ENC_POS, DEC_POS = 8, 6, 16, 12, 5, 4

    def __init__(self, seed: int = 21, mels: int = 6):
        self.MELS = mels
        rng = np.random.default_rng(seed)
        D, F = self.D, self.FFN
        h16 = lambda *s: rng.normal(0, 1, s).astype(np.float16)  # noqa: E731
        v = {}

        def ln(s):
            v[s + "/gamma"], v[s + "/beta"] = h16(D), h16(D)

        def lin(s, o, i):
            v[s + "/weight"], v[s + "/bias"] = h16(o, i), h16(o)

        def fused(s, n):
            v[s + "/weight"] = h16(n * D, D)
            b = h16(n * D)
            k = 1 if n == 3 else 0  # [q; k; v] or [k; v]: k's bias slot is zero
            b[k * D:(k + 1) * D] = 0
            v[s + "/bias"] = b

        v["encoder/conv1/weight"] = h16(D, self.MELS, 3)
        v["encoder/conv1/bias"] = np.float32(rng.normal(0, 1, D)).astype(np.float32)  # a float32 tensor
        v["encoder/conv2/weight"], v["encoder/conv2/bias"] = h16(D, D, 3), h16(D)
        v["encoder/position_encodings/encodings"] = h16(self.ENC_POS, D)
        ln("encoder/layer_norm")
        for i in range(2):
            c = f"encoder/layer_{i}"
            ln(f"{c}/self_attention/layer_norm")
            fused(f"{c}/self_attention/linear_0", 3)
            lin(f"{c}/self_attention/linear_1", D, D)
            ln(f"{c}/ffn/layer_norm")
            lin(f"{c}/ffn/linear_0", F, D)
            lin(f"{c}/ffn/linear_1", D, F)
        v["decoder/embeddings/weight"] = h16(self.VOCAB, D)
        # A bfloat16 tensor: raw uint16 values (the top halves of float32s).
        pos = rng.normal(0, 1, (self.DEC_POS, D)).astype(np.float32)
        v["decoder/position_encodings/encodings"] = ("bfloat16", (pos.view(np.uint32) >> 16).astype(np.uint16))
        ln("decoder/layer_norm")
        c = "decoder/layer_0"
        ln(f"{c}/self_attention/layer_norm")
        fused(f"{c}/self_attention/linear_0", 3)
        lin(f"{c}/self_attention/linear_1", D, D)
        ln(f"{c}/attention/layer_norm")
        lin(f"{c}/attention/linear_0", D, D)
        fused(f"{c}/attention/linear_1", 2)
        lin(f"{c}/attention/linear_2", D, D)
        ln(f"{c}/ffn/layer_norm")
        lin(f"{c}/ffn/linear_0", F, D)
        lin(f"{c}/ffn/linear_1", D, F)
        for name, value, dtype in (("encoder/num_heads", 2, np.int16), ("decoder/num_heads", 2, np.int16),
                                   ("decoder/activation", 3, np.int8), ("decoder/pre_norm", 1, np.int8),
                                   ("decoder/scale_embeddings", 0, np.int8), ("decoder/alibi", 0, np.int8),
                                   ("decoder/alignment_heads", 1, np.int16), ("decoder/alignment_layer", -1, np.int16),
                                   ("decoder/start_from_zero_embedding", 0, np.int8)):
            v[name] = np.array(value, dtype=dtype)
        self.variables = v
        self.aliases = {"decoder/projection/weight": "decoder/embeddings/weight"}

    def f32(self, name: str) -> np.ndarray:
        value = self.variables[name]
        if isinstance(value, tuple):
            return (value[1].astype(np.uint32) << 16).view(np.float32)
        return np.asarray(value).astype(np.float32)

    def write(self, folder: str, **kw) -> str:
        os.makedirs(folder, exist_ok=True)
        write_ct2(os.path.join(folder, "model.bin"), self.variables, self.aliases, **kw)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump({"suppress_ids": [1, 2], "suppress_ids_begin": [3], "lang_ids": [5, 6],
                       "alignment_heads": [[0, 1]]}, f)
        with open(os.path.join(folder, "tokenizer.json"), "w") as f:
            json.dump({"model": {"vocab": {"a": 0, "b": 1}}, "added_tokens": [
                {"id": 4, "content": "<|endoftext|>"}, {"id": 5, "content": "<|en|>"},
                {"id": 6, "content": "<|de|>"}, {"id": 7, "content": "<|startoftranscript|>"},
                {"id": 8, "content": "<|notimestamps|>"}]}, f)
        return folder


def expected_hf(ct2: dict) -> dict:
    """The Hugging Face tensors a CTranslate2 variable set stands for (float32 arrays by name)."""
    out = {}
    d = ct2["encoder/conv1/weight"].shape[0]
    for name, a in ct2.items():
        if a.shape == () or name == "decoder/projection/weight":
            continue
        m = re.match(r"(encoder|decoder)/(?:layer_(\d+)/)?(.*)$", name)
        part, layer, rest = m.group(1), m.group(2), m.group(3)
        prefix = f"{part}.layers.{layer}." if layer is not None else f"{part}."
        split = {"self_attention/linear_0": ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"],
                 "attention/linear_1": ["encoder_attn.k_proj", "encoder_attn.v_proj"]}
        simple = {"self_attention/linear_1": "self_attn.out_proj", "self_attention/layer_norm": "self_attn_layer_norm",
                  "attention/linear_0": "encoder_attn.q_proj", "attention/linear_2": "encoder_attn.out_proj",
                  "attention/layer_norm": "encoder_attn_layer_norm", "ffn/layer_norm": "final_layer_norm",
                  "ffn/linear_0": "fc1", "ffn/linear_1": "fc2", "layer_norm": "layer_norm",
                  "conv1": "conv1", "conv2": "conv2", "position_encodings": "embed_positions",
                  "embeddings": "embed_tokens"}
        module, leaf = rest.rsplit("/", 1)
        hf_leaf = {"gamma": "weight", "beta": "bias", "encodings": "weight"}.get(leaf, leaf)
        if module in split:
            for i, sub in enumerate(split[module]):
                if sub.endswith("k_proj") and leaf == "bias":
                    assert not np.any(a[i * d:(i + 1) * d]), name
                    continue
                out[f"{prefix}{sub}.{hf_leaf}"] = a[i * d:(i + 1) * d]
        else:
            out[f"{prefix}{simple[module]}.{hf_leaf}"] = a
    return out


class ConvertTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def convert(self, src: str, name: str = "hf", force: bool = False) -> str:
        dst = os.path.join(self.dir, name)
        conv.convert(src, dst, force)
        return dst

    def test_every_tensor_and_the_fused_split(self):
        tiny = Tiny()
        dst = self.convert(tiny.write(os.path.join(self.dir, "ct2")))
        got = read_safetensors(os.path.join(dst, "model.safetensors"))
        want = expected_hf({n: tiny.f32(n) for n in tiny.variables})
        self.assertEqual(sorted(got), sorted(want))
        for name, a in want.items():
            self.assertEqual(got[name].shape, a.shape, name)
            self.assertEqual(got[name].tobytes(), a.astype(np.float32).tobytes(), name)
        # The split, spelled out for one layer: rows [q; k; v], k has no bias.
        w = tiny.f32("encoder/layer_1/self_attention/linear_0/weight")
        b = tiny.f32("encoder/layer_1/self_attention/linear_0/bias")
        D = Tiny.D
        np.testing.assert_array_equal(got["encoder.layers.1.self_attn.q_proj.weight"], w[:D])
        np.testing.assert_array_equal(got["encoder.layers.1.self_attn.k_proj.weight"], w[D:2 * D])
        np.testing.assert_array_equal(got["encoder.layers.1.self_attn.v_proj.weight"], w[2 * D:])
        np.testing.assert_array_equal(got["encoder.layers.1.self_attn.v_proj.bias"], b[2 * D:])
        self.assertNotIn("encoder.layers.1.self_attn.k_proj.bias", got)
        kv = tiny.f32("decoder/layer_0/attention/linear_1/weight")
        np.testing.assert_array_equal(got["decoder.layers.0.encoder_attn.k_proj.weight"], kv[:D])
        np.testing.assert_array_equal(got["decoder.layers.0.encoder_attn.v_proj.weight"], kv[D:])
        self.assertNotIn("decoder.layers.0.encoder_attn.k_proj.bias", got)
        # The bfloat16 and float32 tensors widen exactly; no proj_out (tied in Whisper).
        np.testing.assert_array_equal(got["decoder.embed_positions.weight"], tiny.f32("decoder/position_encodings/encodings"))
        self.assertNotIn("proj_out.weight", got)

    def test_configs(self):
        dst = self.convert(Tiny().write(os.path.join(self.dir, "ct2")))
        with open(os.path.join(dst, "config.json")) as f:
            cfg = json.load(f)
        expect = {"d_model": 8, "num_mel_bins": 6, "encoder_layers": 2, "decoder_layers": 1,
                  "encoder_attention_heads": 2, "decoder_attention_heads": 2, "encoder_ffn_dim": 16,
                  "decoder_ffn_dim": 16, "vocab_size": 12, "max_source_positions": 5,
                  "max_target_positions": 4, "model_type": "whisper", "suppress_tokens": None,
                  "begin_suppress_tokens": None, "eos_token_id": 4, "decoder_start_token_id": 7,
                  "activation_function": "gelu"}
        for k, v in expect.items():
            self.assertEqual(cfg[k], v, k)
        with open(os.path.join(dst, "generation_config.json")) as f:
            gen = json.load(f)
        self.assertEqual(gen["lang_to_id"], {"<|en|>": 5, "<|de|>": 6})
        self.assertEqual((gen["suppress_tokens"], gen["begin_suppress_tokens"]), ([1, 2], [3]))
        self.assertEqual(gen["alignment_heads"], [[0, 1]])
        self.assertEqual(gen["no_timestamps_token_id"], 8)
        with open(os.path.join(dst, "preprocessor_config.json")) as f:
            pre = json.load(f)
        self.assertEqual((pre["feature_size"], pre["sampling_rate"], pre["hop_length"], pre["n_fft"],
                          pre["chunk_length"], pre["feature_extractor_type"]),
                         (6, 16000, 160, 400, 30, "WhisperFeatureExtractor"))
        self.assertTrue(os.path.isfile(os.path.join(dst, "tokenizer.json")))

    def test_128_mels(self):
        dst = self.convert(Tiny(mels=128).write(os.path.join(self.dir, "ct2")))
        with open(os.path.join(dst, "preprocessor_config.json")) as f:
            self.assertEqual(json.load(f)["feature_size"], 128)

    def assert_fails(self, src: str, pattern: str, name: str = "out"):
        with self.assertRaisesRegex(conv.ConversionError, pattern):
            conv.convert(src, os.path.join(self.dir, name))
        self.assertFalse(os.path.exists(os.path.join(self.dir, name)))
        self.assertEqual([e for e in os.listdir(self.dir) if ".tmp-" in e], [])

    def test_truncated(self):
        src = Tiny().write(os.path.join(self.dir, "ct2"))
        path = os.path.join(src, "model.bin")
        with open(path, "rb") as f:
            blob = f.read()
        cuts = sorted(set(list(range(1, 200)) + list(range(200, len(blob), 97)) + [len(blob) - 1]))
        for cut in cuts:
            with open(path, "wb") as f:
                f.write(blob[:cut])
            self.assert_fails(src, r"truncated|length 0|not NUL-terminated", f"out{cut}")
        with open(path, "wb") as f:
            f.write(b"")
        self.assert_fails(src, "is empty")
        with open(path, "wb") as f:
            f.write(blob + b"\0\0\0")
        self.assert_fails(src, "3 bytes after its last record")
        with open(path, "wb") as f:
            f.write(blob[len(blob) // 2:] + blob[:len(blob) // 2])  # parts joined the wrong way round
        self.assert_fails(src, "binary version|truncated|not a CTranslate2|not a Whisper")

    def test_not_whisper(self):
        t = Tiny()
        self.assert_fails(t.write(os.path.join(self.dir, "a"), spec="TransformerSpec"), "not a Whisper model")
        self.assert_fails(t.write(os.path.join(self.dir, "b"), version=7), "binary version 7")

    def test_bad_tensors(self):
        t = Tiny()
        t.variables["encoder/layer_0/self_attention/linear_0/bias"][Tiny.D + 3] = 1
        self.assert_fails(t.write(os.path.join(self.dir, "a")), "k part has 1 non-zero")
        t = Tiny()
        t.variables["encoder/layer_0/ffn/linear_0/weight"] = np.zeros((16, 8), np.int8)
        t.variables["encoder/layer_0/ffn/linear_0/weight_scale"] = np.ones(16, np.float32)
        self.assert_fails(t.write(os.path.join(self.dir, "b")), "int8: a quantized")
        t = Tiny()
        del t.variables["decoder/layer_0/attention/linear_2/bias"]
        self.assert_fails(t.write(os.path.join(self.dir, "c")), "no variable decoder/layer_0/attention/linear_2/bias")
        t = Tiny()
        t.variables["encoder/extra/weight"] = np.zeros(3, np.float16)
        self.assert_fails(t.write(os.path.join(self.dir, "d")), "does not know.*encoder/extra/weight")
        t = Tiny()
        t.variables["decoder/activation"] = np.array(0, np.int8)
        self.assert_fails(t.write(os.path.join(self.dir, "e")), "decoder/activation is 0")
        t = Tiny()
        t.aliases = {}
        t.variables["decoder/projection/weight"] = np.ones((Tiny.VOCAB, Tiny.D), np.float16)
        self.assert_fails(t.write(os.path.join(self.dir, "f")), "projection/weight differs")

    def test_unknown_scalar_is_ignored(self):
        t = Tiny()
        t.variables["decoder/some_future_flag"] = np.array(1, np.int8)
        dst = self.convert(t.write(os.path.join(self.dir, "ct2")))
        self.assertTrue(os.path.isfile(os.path.join(dst, "model.safetensors")))

    def test_existing_destination(self):
        src = Tiny().write(os.path.join(self.dir, "ct2"))
        dst = self.convert(src)
        with self.assertRaisesRegex(conv.ConversionError, "already exists"):
            conv.convert(src, dst)
        self.convert(src, force=True)
        self.assertEqual(sorted(os.listdir(self.dir)), ["ct2", "hf"])

    @unittest.skipUnless(os.path.isfile(os.path.join(REAL_CT2, "model.bin")),
                         "models/whisper-base-ct2 absent (tools/fetch-models)")
    def test_real_whisper_base(self):
        dst = self.convert(REAL_CT2)
        got = read_safetensors(os.path.join(dst, "model.safetensors"))
        ct2 = conv.CT2File(os.path.join(REAL_CT2, "model.bin"))
        try:
            variables = {n: ct2.get(n).float32() if ct2.get(n).shape != () else np.array(ct2.get(n).scalar())
                         for n in ct2.names()}
        finally:
            ct2.close()
        want = expected_hf(variables)
        self.assertEqual(sorted(got), sorted(want))
        for name, a in want.items():
            self.assertEqual(got[name].tobytes(), a.tobytes(), name)
        self.assertEqual(len(got), 245)
        with open(os.path.join(dst, "config.json")) as f:
            cfg = json.load(f)
        self.assertEqual((cfg["d_model"], cfg["encoder_layers"], cfg["num_mel_bins"], cfg["vocab_size"]),
                         (512, 6, 80, 51865))


if __name__ == "__main__":
    unittest.main()
