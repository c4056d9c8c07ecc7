"""Cross-check of our codec against Google's protobuf, generated from proto/embedd.proto by protoc.

Runs in a child interpreter that has the ``protobuf`` package (this one, else Debian's
/usr/bin/python3 with python3-protobuf), so the client itself stays standard-library only.
Both directions are checked: protobuf parses and re-serialises (deterministically) every
message we encode — samples and random messages of every type — to exactly our bytes; and
every message protobuf builds decodes with our codec to the same field values (compared
through protobuf's own JSON mapping) and re-encodes to protobuf's bytes.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import unittest
from typing import Any, Dict, Optional

import _support
from _samples import random_message, sample_messages
from embedd import messages as m
from embedd._proto import Message

PROTO_DIR = _support.REPO_ROOT / "proto"

SCRIPT = r'''
import sys, subprocess, tempfile, os, importlib, json
from google.protobuf import json_format
proto_dir, = sys.argv[1:]
out = tempfile.mkdtemp()
subprocess.run(["protoc", "--proto_path=" + proto_dir, "--python_out=" + out,
                os.path.join(proto_dir, "embedd.proto")], check=True)
sys.path.insert(0, out)
pb = importlib.import_module("embedd_pb2")
from google.protobuf import descriptor as D
TYPES = {v: k[5:].lower() for k, v in vars(D.FieldDescriptor).items() if k.startswith("TYPE_")}
for name, md in pb.DESCRIPTOR.message_types_by_name.items():
    for f in md.fields:
        kind = TYPES[f.type]
        if kind == "message" and f.message_type.GetOptions().map_entry:
            kind = "map"
        # protobuf 6 drops FieldDescriptor.label for is_repeated.
        is_repeated = f.is_repeated if hasattr(f, "is_repeated") else f.label == D.FieldDescriptor.LABEL_REPEATED
        repeated = is_repeated and kind != "map"
        oneof = f.containing_oneof.name if f.containing_oneof else "-"
        print("DESC", name, f.number, f.name, kind, int(repeated), oneof)
for name, sd in pb.DESCRIPTOR.services_by_name.items():
    for meth in sd.methods:
        print("RPC", meth.name, meth.input_type.name, meth.output_type.name)
for line in sys.stdin:
    name, hx = line.split()
    hx = "" if hx == "-" else hx
    msg = getattr(pb, name)()
    msg.ParseFromString(bytes.fromhex(hx))
    unknown = len(msg.UnknownFields()) if hasattr(msg, "UnknownFields") else 0
    print("RT", name, msg.SerializeToString(deterministic=True).hex() or "-", unknown)

def show(name, msg):
    print("PY", name, msg.SerializeToString(deterministic=True).hex() or "-",
          json.dumps(json_format.MessageToDict(msg, preserving_proto_field_name=True)))

r = pb.EmbedRequest(model="all-MiniLM-L6-v2")
r.inputs.add().text = "héllo"
r.inputs.add().text = ""
r.inputs.add().media.CopyFrom(pb.Media(data=bytes(range(256)), mime_type="image/png"))
r.inputs.add().pixels.CopyFrom(pb.Pixels(rgb8=b"\x00\x01\x02" * 4, width=2, height=2))
r.inputs.add().audio.samples.extend([0.5, -1.0, 3.0, 1e-7])
r.inputs.add().media.CopyFrom(pb.Media())
show("EmbedRequest", r)
s = pb.StatusResponse(version="9", pid=1, uptime_ms=2**50, calls_total=2**63 + 5, state="serving",
                      protocol_major=1, protocol_minor=7, last_reload_error="ü")
s.models.add(name="m", state=pb.FAILED, error="boom", modalities=["text", "image"], dimension=768,
             generation=2**40, normalized=True, is_default=True, max_input_bytes=2**33, metric="cosine")
s.models.add(name="n", state=pb.LOADING)
s.plugins.add(name="p", path="/x", abi_version="1.0")
show("StatusResponse", s)
show("LoadModelRequest", pb.LoadModelRequest(name="n", plugin="fixture", options={"b": "2", "a": "1", "ü": ""}))
e = pb.EmbedResponse(model="m", dim=3, model_version="v2", generation=2**33)
e.vectors.add().values.extend([1.0, -2.5, 0.1])
e.vectors.add().values.extend([0.0, -0.0, 3.4e38])
show("EmbedResponse", e)
show("HelloReply", pb.HelloReply(major=1, minor=0, server="embedd/0.1.0", max_frame_bytes=2**26,
                                 max_calls_in_flight=64, idle_timeout_ms=300000, default_deadline_ms=60000))
show("HealthResponse", pb.HealthResponse(status=pb.DRAINING, message="shutting down"))
show("RpcStatus", pb.RpcStatus(code=8, message="queue full"))
show("ReloadPluginResponse", pb.ReloadPluginResponse(models=[pb.ModelInfo(name="x", generation=3)]))
show("LoadPluginResponse", pb.LoadPluginResponse(plugin=pb.PluginInfo()))
'''


def protobuf_python() -> Optional[str]:
    """An interpreter that can import google.protobuf: Debian's first (its python3-protobuf
    matches Debian's protoc, which generates the module), else this one. The test venv may hold
    a newer protobuf that pymilvus pulled in."""
    candidates = ["/usr/bin/python3", sys.executable, "/usr/local/bin/python3"]
    for p in candidates:
        if not os.path.exists(p):
            continue
        r = subprocess.run([p, "-c", "import google.protobuf"], capture_output=True)
        if r.returncode == 0:
            return p
    return None


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def to_json_dict(msg: Message) -> Dict[str, Any]:
    """Our message in protobuf's JSON mapping (MessageToDict, proto field names, defaults omitted)."""
    out: Dict[str, Any] = {}
    specs, _ = msg._table()
    for s in specs:
        v = getattr(msg, s.name)
        if s.oneof is None and s.kind != "message" and not s.repeated and s.kind != "map":
            if s.kind in ("float", "double"):
                if struct.pack("<d", float(v)) == b"\0" * 8:
                    continue
            elif not v:
                continue
        if v is None or (s.repeated or s.kind == "map") and len(v) == 0:
            continue

        def one(x: Any) -> Any:
            if s.kind == "message":
                return to_json_dict(x)
            if s.kind in ("uint64", "int64", "fixed64", "sint64", "sfixed64"):
                return str(x)
            if s.kind == "bytes":
                return base64.b64encode(x).decode()
            if s.kind == "enum":
                return s.enum(x).name
            if s.kind == "float":
                return f32(x)
            return x

        if s.kind == "map":
            out[s.name] = dict(v)
        elif s.repeated:
            out[s.name] = [one(x) for x in v]
        else:
            out[s.name] = one(v)
    return out


def normalise_floats(x: Any) -> Any:
    """protobuf prints float32 values in shortest form; compare them as float32."""
    if isinstance(x, float):
        return f32(x)
    if isinstance(x, list):
        return [normalise_floats(y) for y in x]
    if isinstance(x, dict):
        return {k: normalise_floats(v) for k, v in x.items()}
    return x


class ProtobufCrossCheckTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        if shutil.which("protoc") is None:
            raise unittest.SkipTest("protoc not found (apt-get install protobuf-compiler): cross-check skipped")
        python = protobuf_python()
        if python is None:
            raise unittest.SkipTest("no python3 with the protobuf package (apt-get install python3-protobuf): "
                                    "cross-check skipped")
        rng = random.Random(20261126)
        cls.sent = [(name, msg) for name, msg in sample_messages()]
        for name, c in m.ALL_MESSAGES.items():
            cls.sent += [(name, random_message(c, rng)) for _ in range(15)]
        stdin = "".join(f"{name} {msg.encode().hex() or '-'}\n" for name, msg in cls.sent)
        r = subprocess.run([python, "-c", SCRIPT, str(PROTO_DIR)], input=stdin, capture_output=True, text=True,
                           timeout=120)
        if r.returncode != 0:
            raise AssertionError(f"protobuf helper failed ({python}):\n{r.stderr}")
        cls.lines = r.stdout.splitlines()

    def test_messages_and_fields_match_the_proto(self) -> None:
        # protoc's descriptors of proto/embedd.proto against our field tables: a message or field
        # added to (or changed in) the .proto but not here fails this test.
        theirs = {}
        for line in self.lines:
            if line.startswith("DESC "):
                _, msg, number, name, kind, repeated, oneof = line.split()
                theirs.setdefault(msg, set()).add((int(number), name, kind, repeated == "1", None if oneof == "-" else oneof))
        ours = {}
        for msg, cls in m.ALL_MESSAGES.items():
            specs, _ = cls._table()
            ours[msg] = {(s.number, s.name, s.kind, s.repeated, s.oneof) for s in specs}
        # proto messages with no fields print no DESC line
        for msg in list(ours):
            if not ours[msg]:
                theirs.setdefault(msg, set())
        missing = sorted(set(theirs) - set(ours))
        self.assertEqual(missing, [], f"proto/embedd.proto has messages the Python client lacks: {missing}")
        self.assertEqual(sorted(set(ours) - set(theirs)), [], "the client has messages the .proto does not")
        for msg in sorted(theirs):
            self.assertEqual(sorted(ours[msg]), sorted(theirs[msg]), f"fields of {msg} differ from proto/embedd.proto")

    def test_rpcs_match_the_method_table(self) -> None:
        rpcs = {}
        for line in self.lines:
            if line.startswith("RPC "):
                _, name, req, resp = line.split()
                rpcs[name] = (req, resp)
        ours = {name: (req.__name__, resp.__name__) for name, (_, req, resp) in m.METHODS.items()}
        self.assertEqual(ours, rpcs, "service Embedd in proto/embedd.proto differs from embedd.messages.METHODS")
        # Method ids: the .proto lists them in comments (`// id N`); check ours against that text.
        text = (PROTO_DIR / "embedd.proto").read_text()
        for name, (method_id, _, _) in m.METHODS.items():
            self.assertRegex(text, rf"rpc {name}\(.*// id {method_id}\b", f"method id of {name}")

    def test_every_message_class_is_exercised(self) -> None:
        # Field numbers and types per message must agree with protoc's descriptors; a message
        # or field added to the .proto but not here shows up as an unknown-field count.
        rt = [line for line in self.lines if line.startswith("RT ")]
        self.assertEqual(len(rt), len(self.sent))
        names_seen = {name for name, _ in self.sent}
        self.assertEqual(names_seen, set(m.ALL_MESSAGES))

    def test_protobuf_reserialises_our_bytes_exactly(self) -> None:
        rt = [line.split() for line in self.lines if line.startswith("RT ")]
        for (name, msg), (_, rname, hx, unknown) in zip(self.sent, rt):
            with self.subTest(name=name, msg=msg):
                self.assertEqual(rname, name)
                self.assertEqual(unknown, "0", "protobuf saw fields it does not know: field numbers disagree")
                self.assertEqual(hx if hx != "-" else "", msg.encode().hex())

    def test_we_decode_what_protobuf_builds(self) -> None:
        py = [line.split(" ", 3) for line in self.lines if line.startswith("PY ")]
        self.assertGreaterEqual(len(py), 9)
        for _, name, hx, js in py:
            with self.subTest(name=name):
                data = bytes.fromhex(hx if hx != "-" else "")
                ours = m.ALL_MESSAGES[name].decode(data)
                self.assertEqual(normalise_floats(to_json_dict(ours)), normalise_floats(json.loads(js)))
                self.assertEqual(ours.encode(), data)


if __name__ == "__main__":
    unittest.main()
