"""Tests of tools/convert-pytorch-bin (python3 + numpy only, as CI runs them).

    /usr/bin/python3 -m unittest discover -s tools/tests -p 'test_convert_pytorch_bin.py' -v

Without PyTorch: fixtures/tiny_pytorch_model.bin (written by torch.save, made by the committed
make-pytorch-bin-fixture) is converted and every tensor compared, dtype, shape and bytes, with the
values `expected()` rebuilds in numpy; pickles that try to run code (os.system, eval, a class's
constructor, through every pickle opcode that looks a global up) are refused before anything runs
and leave no output; damaged archives fail with a message. With PyTorch (e.g. /work/venv-ref's
python) and models/all-MiniLM-L6-v2 (tools/fetch-models): its weights are saved with torch.save,
in one file and in shards, converted, and compared tensor by tensor with the original
model.safetensors, exactly; the `safetensors` package, when present, reads the output too.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import io
import json
import os
import pickle
import shutil
import struct
import tempfile
import unittest
import zipfile

import numpy as np

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TOOLS)
FIXTURE = os.path.join(TOOLS, "tests", "fixtures", "tiny_pytorch_model.bin")
MINILM = os.path.join(os.environ.get("EMBEDD_MODELS_DIR") or os.path.join(REPO, "models"), "all-MiniLM-L6-v2")

try:
    import torch  # noqa: F401  (only for the tests that say so)
except ImportError:
    torch = None


def load_converter():
    path = os.path.join(TOOLS, "convert-pytorch-bin")
    loader = importlib.machinery.SourceFileLoader("convert_pytorch_bin", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


conv = load_converter()

NUMPY = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
         "I8": "i1", "U8": "u1", "BOOL": "?"}


def read_safetensors(path: str):
    """name → (dtype, array) of a safetensors file, checked the way the format requires."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    assert (8 + n) % 8 == 0, "data starts 8-aligned"
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    end = 0
    for name, h in header.items():
        if name == "__metadata__":
            continue
        b, e = h["data_offsets"]
        a = np.frombuffer(body[b:e], dtype=NUMPY[h["dtype"]]).reshape(h["shape"])
        out[name] = (h["dtype"], a)
        end = max(end, e)
    assert end == len(body), "no bytes beyond the last tensor"
    return header.get("__metadata__"), out


def bf16_bits(values):
    return (np.array(values, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)


def expected():
    """What make-pytorch-bin-fixture stored, rebuilt with numpy."""
    f32 = (np.arange(12, dtype=np.float32).reshape(3, 4) / np.float32(8)).astype(np.float32)
    return {
        "f32": ("F32", f32), "f32_t": ("F32", f32.T.copy()), "row": ("F32", f32[2].copy()),
        "f64": ("F64", np.arange(4, dtype=np.float64) / 3),
        "f16": ("F16", np.arange(6, dtype=np.float16).reshape(2, 3) * np.float16(0.5)),
        "bf16": ("BF16", bf16_bits([1.5, -2.25, 2.0 ** 100, 2.0 ** -10])),
        "i64": ("I64", np.arange(5, dtype=np.int64) - 2),
        "i32": ("I32", np.array([-(2 ** 31), 2 ** 31 - 1], dtype=np.int32)),
        "i16": ("I16", np.array([-300, 300], dtype=np.int16)),
        "i8": ("I8", np.array([-128, 127], dtype=np.int8)),
        "u8": ("U8", np.array([0, 255], dtype=np.uint8)),
        "bool": ("BOOL", np.array([True, False, True])),
        "scalar": ("F32", np.array(3.25, dtype=np.float32)),
        "empty": ("F32", np.zeros((0, 3), dtype=np.float32)),
        "param": ("F32", np.ones((2, 2), dtype=np.float32)),
    }


def archive_with(pickle_bytes: bytes, storages=None, prefix: str = "archive") -> bytes:
    """A zip laid out as torch.save writes it, holding `pickle_bytes` as its data.pkl."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", pickle_bytes)
        z.writestr(f"{prefix}/byteorder", "little")
        for key, raw in (storages or {}).items():
            z.writestr(f"{prefix}/data/{key}", raw)
        z.writestr(f"{prefix}/version", "3\n")
    return buf.getvalue()


class Evil:
    """Pickles as a call of `fn(*args)` when loaded: what a malicious weights file does."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


class ConverterTests(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="convert-pytorch-bin-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def folder_with(self, data: bytes) -> str:
        with open(os.path.join(self.dir, "pytorch_model.bin"), "wb") as f:
            f.write(data)
        return self.dir

    def refused(self, data: bytes, *needles: str) -> str:
        folder = self.folder_with(data)
        with self.assertRaises(conv.ConversionError) as cm:
            conv.convert(folder)
        message = str(cm.exception)
        for n in needles:
            self.assertIn(n, message)
        self.assertFalse(os.path.exists(os.path.join(folder, "model.safetensors")))
        self.assertEqual(sorted(os.listdir(folder)), ["pytorch_model.bin"], "no temporary file is left")
        return message

    def test_fixture_converts_exactly(self) -> None:
        shutil.copy(FIXTURE, os.path.join(self.dir, "pytorch_model.bin"))
        out, n = conv.convert(self.dir)
        self.assertEqual(out, os.path.join(self.dir, "model.safetensors"))
        want = expected()
        self.assertEqual(n, len(want))
        meta, got = read_safetensors(out)
        self.assertEqual(meta, {"format": "pt"})
        self.assertEqual(sorted(got), sorted(want))
        for name, (dtype, a) in want.items():
            with self.subTest(name):
                self.assertEqual(got[name][0], dtype)
                self.assertEqual(got[name][1].shape, a.shape)
                self.assertEqual(got[name][1].tobytes(), a.tobytes())
        # A second run refuses to overwrite; --force replaces.
        with self.assertRaises(conv.ConversionError):
            conv.convert(self.dir)
        self.assertEqual(conv.main([self.dir, "--force"]), 0)
        self.assertEqual(sorted(os.listdir(self.dir)), ["model.safetensors", "pytorch_model.bin"])

    def test_a_file_and_an_output_path(self) -> None:
        out = os.path.join(self.dir, "elsewhere.safetensors")
        self.assertEqual(conv.main([FIXTURE, "--output", out]), 0)
        self.assertEqual(sorted(read_safetensors(out)[1]), sorted(expected()))

    def test_pickles_that_run_code_are_refused(self) -> None:
        marker = os.path.join(self.dir, "ran")
        # Names as the file spells them: protocol 2 writes Python 2's module names.
        cases = [
            (Evil(os.system, f"touch {marker}"), "posix.system", "posix.system"),
            (Evil(eval, f"open({marker!r}, 'w')"), "__builtin__.eval", "builtins.eval"),
            (Evil(__import__("subprocess").Popen, ["touch", marker]), "commands.Popen", "subprocess.Popen"),
            # Hidden inside a state dict, beside a real-looking entry.
            ({"weight": Evil(os.system, f"touch {marker}")}, "posix.system", "posix.system"),
            (Evil(getattr, "text", "upper"), "__builtin__.getattr", "builtins.getattr"),
        ]
        for obj, name2, name4 in cases:
            for protocol, name in ((2, name2), (4, name4)):  # GLOBAL and STACK_GLOBAL look globals up differently
                with self.subTest(name, protocol=protocol):
                    message = self.refused(archive_with(pickle.dumps(obj, protocol=protocol)), f"'{name}'", "executes nothing")
                    self.assertIn("refused to load global", message)
        # INST and OBJ (protocol 0/1 class instantiation) go through the same gate.
        self.refused(archive_with(b"(i" + b"os\nsystem\n" + b"."), "'os.system'")
        self.assertFalse(os.path.exists(marker), "nothing ran")

    def test_allowed_globals_cannot_be_turned_into_calls(self) -> None:
        # A storage type called as a function, a rebuild function given junk: errors, not crashes.
        p = b"\x80\x02ctorch\nFloatStorage\n)R."
        self.refused(archive_with(p), "cannot read the pickle")
        # _rebuild_tensor_v2("x", 0, (1,), (1,)): a string where the storage goes.
        junk = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(X\x01\x00\x00\x00xK\x00K\x01\x85K\x01\x85tR."
        self.refused(archive_with(junk), "storage is str")
        self.refused(archive_with(b"\x80\x02(X\x03\x00\x00\x00abcK\x01tQ."), "unknown persistent id")

    def test_damaged_and_foreign_files_fail_with_a_message(self) -> None:
        with open(FIXTURE, "rb") as f:
            good = f.read()
        self.refused(b"", "not a PyTorch weights file")
        self.refused(b"\x80\x02}q\x00.", "legacy format")
        for cut in (10, len(good) // 2, len(good) - 30):
            with self.subTest(cut=cut):
                self.refused(good[:cut], "pytorch_model.bin")
        # A storage shorter than the pickle says.
        z = zipfile.ZipFile(io.BytesIO(good))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as w:
            for item in z.infolist():
                data = z.read(item.filename)
                w.writestr(item.filename, data[:-4] if item.filename.endswith("/data/0") else data)
        self.refused(buf.getvalue(), "bytes;")
        self.refused(archive_with(pickle.dumps([1, 2], protocol=2)), "not a state dict")
        self.refused(archive_with(pickle.dumps({}, protocol=2)), "empty")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as w:
            w.writestr("m/constants.pkl", b"")
            w.writestr("m/code/m.py", b"")
        self.refused(buf.getvalue(), "TorchScript")

    def test_a_folder_without_weights(self) -> None:
        with self.assertRaises(conv.ConversionError) as cm:
            conv.convert(self.dir)
        self.assertIn("neither pytorch_model.bin nor pytorch_model.bin.index.json", str(cm.exception))


@unittest.skipIf(torch is None, "PyTorch is not installed (run with /work/venv-ref/bin/python)")
@unittest.skipIf(not os.path.isfile(os.path.join(MINILM, "model.safetensors")), "models/all-MiniLM-L6-v2 absent: run tools/fetch-models")
class RealModelTests(unittest.TestCase):
    """all-MiniLM-L6-v2's weights through torch.save and back."""

    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="convert-pytorch-bin-minilm-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        _, self.original = read_safetensors(os.path.join(MINILM, "model.safetensors"))
        import torch as t
        self.state = {name: t.from_numpy(a.copy()) if dtype != "BF16" else t.from_numpy(a.copy()).view(t.bfloat16)
                      for name, (dtype, a) in self.original.items()}

    def check(self, out: str) -> None:
        _, got = read_safetensors(out)
        self.assertEqual(sorted(got), sorted(self.original))
        for name, (dtype, a) in self.original.items():
            self.assertEqual(got[name][0], dtype, name)
            self.assertEqual(got[name][1].shape, a.shape, name)
            self.assertTrue(np.array_equal(got[name][1], a), name)
        try:
            from safetensors.numpy import load_file
        except ImportError:
            return
        ref = load_file(out)
        for name, (_, a) in self.original.items():
            self.assertEqual(ref[name].tobytes(), a.tobytes(), name)

    def test_torch_save_converts_exactly(self) -> None:
        import torch as t
        t.save(self.state, os.path.join(self.dir, "pytorch_model.bin"))
        out, n = conv.convert(self.dir)
        self.assertEqual(n, len(self.original))
        self.check(out)

    def test_shards_convert_into_one_file(self) -> None:
        import torch as t
        names = sorted(self.state)
        half = len(names) // 2
        weight_map = {}
        for i, part in enumerate((names[:half], names[half:])):
            shard = f"pytorch_model-0000{i + 1}-of-00002.bin"
            t.save({k: self.state[k] for k in part}, os.path.join(self.dir, shard))
            weight_map.update({k: shard for k in part})
        with open(os.path.join(self.dir, "pytorch_model.bin.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f)
        out, _ = conv.convert(self.dir)
        self.check(out)

    def test_legacy_format_is_refused(self) -> None:
        import torch as t
        t.save({"x": t.ones(2)}, os.path.join(self.dir, "pytorch_model.bin"), _use_new_zipfile_serialization=False)
        with self.assertRaises(conv.ConversionError) as cm:
            conv.convert(self.dir)
        self.assertIn("legacy format", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
