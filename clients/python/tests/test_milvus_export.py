"""``embedctl export`` into a real Milvus (issue 24, items 1, 2 and 4): the embedded Milvus 2.3.5
server from PyPI ``milvus`` (REST v1) read back with ``pymilvus``; the REST v2 requests checked
against a small in-test HTTP server that answers as Milvus 2.4 does.

Needs ``milvus`` and ``pymilvus`` (tools/test-requirements.txt). Where they are missing or the
server cannot start, the Milvus tests fail under ``CI=true`` and are skipped with a loud message
elsewhere; the v2 request tests need neither.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import _support
from _support import Daemon

import embedd

MILVUS: Optional[Any] = None          # the running embedded server
MILVUS_PORT = 0
MILVUS_DIR: Optional[str] = None
MILVUS_PROBLEM: Optional[str] = None  # why the real-Milvus tests cannot run


def _loud_skip(reason: str) -> None:
    bar = "!" * 78
    sys.stderr.write(f"\n{bar}\n!! MILVUS TESTS SKIPPED: {reason}\n!! (install tools/test-requirements.txt; "
                     f"under CI=true this is a failure)\n{bar}\n")


def _start_milvus() -> None:
    """Starts the embedded Milvus on free ports in a private directory, or records why not."""
    global MILVUS, MILVUS_PORT, MILVUS_DIR, MILVUS_PROBLEM
    try:
        from milvus import MilvusServer  # type: ignore[import-not-found]
        import pymilvus  # noqa: F401  # type: ignore[import-not-found]
    except ImportError as e:
        MILVUS_PROBLEM = f"cannot import milvus/pymilvus ({e})"
        return
    MILVUS_DIR = tempfile.mkdtemp(prefix="embedd-milvus-", dir="/tmp")
    try:
        server = MilvusServer()
        server.set_base_dir(os.path.join(MILVUS_DIR, "data"))
        server.start()  # waits for /healthz
        MILVUS = server
        MILVUS_PORT = server.listen_port
    except Exception as e:  # noqa: BLE001  (any start-up failure is reported the same way)
        MILVUS_PROBLEM = f"the embedded Milvus server did not start ({type(e).__name__}: {e})"


def setUpModule() -> None:
    reason = _support.missing_daemon_reason()
    if reason:
        raise unittest.SkipTest(f"Milvus export tests skipped: {reason}")
    _start_milvus()
    if MILVUS_PROBLEM:
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"CI=true and {MILVUS_PROBLEM}")
        _loud_skip(MILVUS_PROBLEM)


def tearDownModule() -> None:
    if MILVUS is not None:
        MILVUS.stop()
    if MILVUS_DIR:
        shutil.rmtree(MILVUS_DIR, ignore_errors=True)


def embedctl() -> Path:
    return _support.find_daemon().resolve().parent / "embedctl"  # type: ignore[union-attr]


def f32_bytes(v: List[float]) -> bytes:
    return struct.pack(f"<{len(v)}f", *v)


def cosine_top(queries: List[List[float]], keys: List[str], vectors: List[List[float]], k: int) -> List[List[str]]:
    """Exact cosine top-k (float64)."""
    norms = [math.sqrt(sum(x * x for x in v)) for v in vectors]
    out = []
    for q in queries:
        qn = math.sqrt(sum(x * x for x in q))
        scored = sorted(((sum(a * b for a, b in zip(q, v)) / (n * qn), key) for key, v, n in zip(keys, vectors, norms)),
                        reverse=True)
        out.append([key for _, key in scored[:k]])
    return out


def recall(got: List[List[str]], want: List[List[str]]) -> float:
    return sum(len(set(g) & set(w)) for g, w in zip(got, want)) / sum(len(w) for w in want)


class ExportBase(unittest.TestCase):
    daemon: Daemon

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon({"fx": {"dim": "32"}}).start()
        cls.state_dir = tempfile.mkdtemp(prefix="embedd-export-state-", dir="/tmp")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.cleanup()
        shutil.rmtree(cls.state_dir, ignore_errors=True)

    def client(self) -> embedd.Client:
        c = self.daemon.client(numpy=False)
        self.addCleanup(c.close)
        return c

    def ctl(self, *args: str, expect: int = 0, token: Optional[str] = None) -> subprocess.CompletedProcess:
        env = dict(os.environ, XDG_STATE_HOME=self.state_dir)
        env.pop("MILVUS_TOKEN", None)
        if token is not None:
            env["MILVUS_TOKEN"] = token
        r = subprocess.run([str(embedctl()), "--socket", self.daemon.socket_path, *args], capture_output=True,
                           text=True, timeout=300, env=env)
        if r.returncode != expect:
            self.fail(f"embedctl {' '.join(args)} exited {r.returncode}, expected {expect}:\n{r.stdout}\n{r.stderr}")
        return r

    def raw_collection(self, name: str, n: int, dim: int, *, seed: int, metric: str = "cosine",
                       **kw: Any) -> Tuple[List[str], List[List[float]], List[Dict[str, Any]]]:
        c = self.client()
        _support.fresh_collection(c, name, dim=dim, metric=metric, **kw)
        rnd = random.Random(seed)
        # Keys that need escaping in JSON and in Milvus expressions, and non-ASCII ones.
        keys = [f"doc-{i:05d}" + ("-\"q\\" if i % 97 == 0 else "") + ("-é中" if i % 89 == 0 else "") for i in range(n)]
        vectors = [[rnd.gauss(0, 1) for _ in range(dim)] for _ in range(n)]
        metas: List[Dict[str, Any]] = []
        for i in range(n):
            m: Dict[str, Any] = {"i": i, "lang": rnd.choice(["en", "pl", "fr"]), "score": rnd.random(),
                                 "tags": ["a", i % 7], "nested": {"deep": [1.5, None, True]}}
            if i % 50 == 0:
                m["big"] = 12345678901234567890 + i   # past float64's exact integers
            if i % 3 == 0:
                m = {}                                 # some records have empty metadata objects
            metas.append(m)
        for a in range(0, n, 1000):
            c.upsert(name, keys[a:a + 1000], vectors=vectors[a:a + 1000],
                     metadata=[m if m else None for m in metas[a:a + 1000]])
        # The daemon stores float32: compare against what it gives back.
        stored = {r.key: r for r in c.scan(name, vectors=True)}
        self.assertEqual(len(stored), n)
        return keys, [list(stored[k].vector) for k in keys], [stored[k].metadata for k in keys]


class MilvusExportTests(ExportBase):
    def setUp(self) -> None:
        if MILVUS_PROBLEM:
            self.skipTest(MILVUS_PROBLEM)
        from pymilvus import MilvusClient  # type: ignore[import-not-found]
        self.milvus = MilvusClient(uri=f"http://127.0.0.1:{MILVUS_PORT}")
        self.addCleanup(self.milvus.close)

    def target(self, name: str) -> str:
        if self.milvus.has_collection(name):
            self.milvus.drop_collection(name)
        return f"milvus://127.0.0.1:{MILVUS_PORT}/{name}"

    def read_back(self, name: str, keys: List[str]) -> Dict[str, Dict[str, Any]]:
        out: Dict[str, Dict[str, Any]] = {}
        for a in range(0, len(keys), 400):
            chunk = keys[a:a + 400]
            rows = self.milvus.query(name, filter="key in " + json.dumps(chunk, ensure_ascii=False),
                                     output_fields=["key", "vector", "metadata", "metadata_text", "document"],
                                     consistency_level="Strong")
            for row in rows:
                self.assertNotIn(row["key"], out, f"key {row['key']!r} twice in Milvus")
                out[row["key"]] = row
        return out

    def milvus_count(self, name: str) -> int:
        rows = self.milvus.query(name, filter="id >= 0", output_fields=["count(*)"], consistency_level="Strong")
        return int(rows[0]["count(*)"])

    def check_records(self, name: str, keys: List[str], vectors: List[List[float]], metas: List[Any],
                      documents: Optional[List[Any]] = None) -> None:
        got = self.read_back(name, keys)
        self.assertEqual(set(got), set(keys))
        self.assertEqual(self.milvus_count(name), len(keys))
        for i, key in enumerate(keys):
            row = got[key]
            self.assertEqual(f32_bytes(row["vector"]), f32_bytes(vectors[i]), f"vector of {key!r} is not bit-equal")
            # Exact text where Milvus's float64 JSON would round (integers past 2^53), else the object.
            meta = json.loads(row["metadata_text"]) if row.get("metadata_text") else row.get("metadata")
            self.assertEqual(meta, metas[i], f"metadata of {key!r}")
            if "big" in (metas[i] or {}):
                self.assertIn("metadata_text", row)
            if documents is not None:
                self.assertEqual(row.get("document"), documents[i], f"document of {key!r}")

    def test_raw_collection_round_trips_and_searches_alike(self) -> None:
        n, dim = 3000, 48
        keys, vectors, metas = self.raw_collection("raw", n, dim, seed=1)
        url = self.target("embedd_raw")
        r = self.ctl("export", "raw", url, "--create", "--batch", "700")
        self.assertIn("exported 3000 records of 'raw'", r.stdout)
        self.assertIn("REST v1, created", r.stdout)
        self.assertIn("Milvus count 3000 matches", r.stdout)
        self.check_records("embedd_raw", keys, vectors, metas)
        desc = self.milvus.describe_collection("embedd_raw")
        vector_field = [f for f in desc["fields"] if f["name"] == "vector"][0]
        self.assertEqual(vector_field["params"]["dim"], dim)
        index = self.milvus.describe_index("embedd_raw", self.milvus.list_indexes("embedd_raw")[0])
        self.assertEqual(index["metric_type"], "COSINE")

        # recall@10 against exact search, for Milvus and for embedd, on the same queries.
        rnd = random.Random(7)
        queries = [[x + rnd.gauss(0, 0.3) for x in vectors[rnd.randrange(n)]] for _ in range(40)]
        exact = cosine_top(queries, keys, vectors, 10)
        hits = self.milvus.search("embedd_raw", data=queries, limit=10, output_fields=["key"],
                                  search_params={"metric_type": "COSINE", "params": {"ef": 64}},
                                  consistency_level="Strong")
        milvus_recall = recall([[h["entity"]["key"] for h in q] for q in hits], exact)
        c = self.client()
        embedd_recall = recall([[h.key for h in c.search("raw", vector=q, k=10)] for q in queries], exact)
        self.assertGreaterEqual(milvus_recall, 0.95)
        self.assertGreaterEqual(embedd_recall, 0.95)

        # A second export into the now full collection replaces by key: no duplicates.
        c.upsert("raw", [keys[0]], vectors=[[1.0] * dim], metadata=[{"changed": True}])
        vectors[0] = [1.0] * dim
        metas[0] = {"changed": True}
        self.ctl("export", "raw", f"milvus://127.0.0.1:{MILVUS_PORT}/embedd_raw")
        self.check_records("embedd_raw", keys, vectors, metas)

    def test_text_collection_keeps_documents(self) -> None:
        c = self.client()
        _support.fresh_collection(c, "texts", model="fx")
        texts = [f"text number {i} with \"quotes\" and ünïcode\n" for i in range(120)]
        keys = [f"t{i:03d}" for i in range(120)]
        c.upsert("texts", keys, texts=texts, metadata=[{"n": i} for i in range(120)])
        stored = {r.key: r for r in c.scan("texts", vectors=True)}
        self.assertTrue(all(stored[k].document for k in keys), "the fixture collection keeps documents")
        self.ctl("export", "texts", self.target("embedd_texts"), "--create", "--batch", "50")
        self.check_records("embedd_texts", keys, [list(stored[k].vector) for k in keys], [stored[k].metadata for k in keys],
                           documents=[stored[k].document for k in keys])

    def test_metric_l2_and_ip_map(self) -> None:
        for metric, milvus_metric in (("l2", "L2"), ("ip", "IP")):
            self.raw_collection(f"m_{metric}", 30, 8, seed=3, metric=metric)
            self.ctl("export", f"m_{metric}", self.target(f"embedd_m_{metric}"), "--create")
            index = self.milvus.describe_index(f"embedd_m_{metric}", self.milvus.list_indexes(f"embedd_m_{metric}")[0])
            self.assertEqual(index["metric_type"], milvus_metric)
        # Exporting into a collection of another metric or dimension is refused before writing.
        r = self.ctl("export", "m_l2", f"milvus://127.0.0.1:{MILVUS_PORT}/embedd_m_ip", expect=1)
        self.assertIn("is indexed with metric IP; 'm_l2' uses l2 (L2)", r.stderr)
        self.raw_collection("dim4", 5, 4, seed=4, metric="ip")
        r = self.ctl("export", "dim4", f"milvus://127.0.0.1:{MILVUS_PORT}/embedd_m_ip", expect=1)
        self.assertIn("has dimension 8; 'dim4' has 4", r.stderr)

    def test_resume_after_an_interruption(self) -> None:
        n = 2000
        keys, vectors, metas = self.raw_collection("resumable", n, 16, seed=5)
        url = self.target("embedd_resume")
        r = self.ctl("export", "resumable", url, "--create", "--batch", "300", "--stop-after", "700")
        self.assertIn("stopped after 700 records", r.stdout)
        self.assertEqual(self.milvus_count("embedd_resume"), 700)
        state_files = list(Path(self.state_dir, "embedd", "export").glob("resumable@*.json"))
        self.assertEqual(len(state_files), 1)
        state = json.loads(state_files[0].read_text())
        self.assertEqual((state["after"], state["exported"]), (sorted(keys)[699], 700))
        # A batch Milvus took but the resume file missed (a kill between the two): move the
        # saved position back one batch; the resumed run must replace those keys, not repeat them.
        state["after"], state["exported"] = sorted(keys)[399], 400
        state_files[0].write_text(json.dumps(state))
        r = self.ctl("export", "resumable", url, "--resume", "--batch", "300")
        self.assertIn("exported 1600 records of 'resumable'", r.stdout)
        self.assertIn("resumed", r.stdout)
        self.check_records("embedd_resume", keys, vectors, metas)
        self.assertFalse(state_files[0].exists(), "the resume file is removed after a complete export")
        r = self.ctl("export", "resumable", url, "--resume", expect=1)
        self.assertIn("nothing to resume", r.stderr)

    def test_resume_after_kill(self) -> None:
        n = 6000
        keys, vectors, metas = self.raw_collection("killed", n, 64, seed=6)
        url = self.target("embedd_killed")
        env = dict(os.environ, XDG_STATE_HOME=self.state_dir)
        p = subprocess.Popen([str(embedctl()), "--socket", self.daemon.socket_path, "export", "killed", url, "--create",
                              "--batch", "200"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        state = Path(self.state_dir, "embedd", "export", f"killed@127.0.0.1_{MILVUS_PORT}_embedd_killed.json")
        end = time.monotonic() + 60
        while time.monotonic() < end and p.poll() is None:
            if state.exists() and json.loads(state.read_text() or "{}").get("exported", 0) >= 1000:
                break
            time.sleep(0.005)
        p.kill()
        p.communicate()
        if p.returncode == 0:
            self.skipTest("the export finished before it could be killed")
        self.ctl("export", "killed", url, "--resume", "--batch", "500")
        self.check_records("embedd_killed", keys, vectors, metas)

    def test_clear_errors(self) -> None:
        self.raw_collection("errs", 3, 4, seed=8)
        r = self.ctl("export", "errs", "localhost:19530/x", expect=2)
        self.assertIn("expected milvus://HOST:PORT/COLLECTION", r.stderr)
        r = self.ctl("export", "errs", "milvus://127.0.0.1:19530/bad-name", expect=2)
        self.assertIn("is not a Milvus name", r.stderr)
        r = self.ctl("export", "errs", self.target("embedd_absent"), expect=1)
        self.assertIn("Milvus collection 'embedd_absent' does not exist", r.stderr)
        self.assertIn("add --create", r.stderr)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed = s.getsockname()[1]
        t = time.monotonic()
        r = self.ctl("export", "errs", f"milvus://127.0.0.1:{closed}/x", "--create", expect=1)
        self.assertIn("cannot reach Milvus: 127.0.0.1:", r.stderr)
        self.assertIn("Connection refused", r.stderr)
        self.assertLess(time.monotonic() - t, 60)
        r = self.ctl("export", "errs", f"milvus://no-such-host.invalid:19530/x", expect=1)
        self.assertIn("cannot resolve host 'no-such-host.invalid'", r.stderr)
        r = self.ctl("export", "nope", self.target("embedd_x"), expect=1)
        self.assertIn("nope", r.stderr)


class FakeMilvusV2(BaseHTTPRequestHandler):
    """Answers like Milvus 2.4's REST v2 (only what the exporter calls), recording requests.
    Answers alternate between Content-Length and chunked bodies on one keep-alive connection."""
    protocol_version = "HTTP/1.1"
    requests: List[Tuple[str, Dict[str, str], Any]] = []
    collections: Dict[str, Dict[str, Any]] = {}
    require_token: Optional[str] = None
    answers = 0

    def log_message(self, *args: Any) -> None:
        pass

    def reply(self, status: int, value: Any) -> None:
        body = json.dumps(value).encode()
        cls = type(self)
        cls.answers += 1
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if cls.answers % 2:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for a in range(0, len(body), 7):
                part = body[a:a + 7]
                self.wfile.write(f"{len(part):x};ext=1\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

    def do_GET(self) -> None:
        self.reply(404, {"code": 404})

    def do_POST(self) -> None:
        cls = type(self)
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        body = json.loads(raw)
        cls.requests.append((self.path, dict(self.headers), body))
        if cls.require_token and self.headers.get("Authorization") != f"Bearer {cls.require_token}":
            self.reply(401, {"code": 1800, "message": "user hasn't authenticated"})
            return
        name = body.get("collectionName")
        if self.path == "/v2/vectordb/collections/list":
            self.reply(200, {"code": 0, "data": list(cls.collections)})
        elif self.path == "/v2/vectordb/collections/describe":
            c = cls.collections.get(name)
            if c is None:
                self.reply(200, {"code": 100, "message": f"collection not found[database=default][collection={name}]"})
                return
            dim = [f for f in c["schema"]["fields"] if f["fieldName"] == "vector"][0]["elementTypeParams"]["dim"]
            self.reply(200, {"code": 0, "data": {
                "collectionName": name, "autoId": False, "enableDynamicField": True,
                "fields": [{"name": "key", "type": "VarChar", "primaryKey": True, "autoId": False,
                            "params": [{"key": "max_length", "value": "65535"}]},
                           {"name": "vector", "type": "FloatVector", "primaryKey": False,
                            "params": [{"key": "dim", "value": dim}]}],
                "indexes": [{"fieldName": "vector", "indexName": "vector",
                             "metricType": c["indexParams"][0]["metricType"]}]}})
        elif self.path == "/v2/vectordb/collections/create":
            cls.collections[name] = dict(body, rows={})
            self.reply(200, {"code": 0, "data": {}})
        elif self.path in ("/v2/vectordb/entities/insert", "/v2/vectordb/entities/upsert"):
            for row in body["data"]:
                cls.collections[name]["rows"][row["key"]] = row
            self.reply(200, {"code": 0, "data": {"insertCount": len(body["data"])}})
        elif self.path == "/v2/vectordb/entities/query":
            self.reply(200, {"code": 0, "data": [{"count(*)": len(cls.collections[name]["rows"])}]})
        else:
            self.reply(404, {"code": 404, "message": "no such path"})


class V2RequestTests(ExportBase):
    """The REST v2 path, against a peer that answers as Milvus 2.4 does (no Milvus needed)."""

    def setUp(self) -> None:
        FakeMilvusV2.requests = []
        FakeMilvusV2.collections = {}
        FakeMilvusV2.require_token = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), FakeMilvusV2)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.port = self.server.server_address[1]

    def test_v2_creates_hnsw_with_the_collections_parameters_and_writes_rows(self) -> None:
        keys, vectors, metas = self.raw_collection("v2src", 250, 6, seed=9, metric="l2", hnsw_m=24,
                                                   hnsw_ef_construction=150)
        r = self.ctl("export", "v2src", f"milvus://127.0.0.1:{self.port}/mydb/target", "--create", "--batch", "100",
                     "--token", "root:Milvus")
        self.assertIn("REST v2, created", r.stdout)
        paths = [p for p, _, _ in FakeMilvusV2.requests]
        self.assertEqual(paths[:4], ["/v2/vectordb/collections/list", "/v2/vectordb/collections/describe",
                                     "/v2/vectordb/collections/create", "/v2/vectordb/collections/describe"])
        self.assertEqual(paths.count("/v2/vectordb/entities/insert"), 3)
        self.assertTrue(all(h.get("Authorization") == "Bearer root:Milvus" for _, h, _ in FakeMilvusV2.requests))
        create = FakeMilvusV2.requests[2][2]
        self.assertEqual(create["dbName"], "mydb")
        self.assertEqual(create["collectionName"], "target")
        self.assertEqual(create["schema"], {
            "autoID": False, "enableDynamicField": True,
            "fields": [{"fieldName": "key", "dataType": "VarChar", "isPrimary": True,
                        "elementTypeParams": {"max_length": "65535"}},
                       {"fieldName": "vector", "dataType": "FloatVector", "elementTypeParams": {"dim": "6"}}]})
        self.assertEqual(create["indexParams"], [{"fieldName": "vector", "indexName": "vector", "metricType": "L2",
                                                  "indexType": "HNSW", "params": {"M": 24, "efConstruction": 150}}])
        rows = FakeMilvusV2.collections["target"]["rows"]
        self.assertEqual(set(rows), set(keys))
        for i, key in enumerate(keys):
            self.assertNotIn("id", rows[key])
            self.assertEqual(f32_bytes(rows[key]["vector"]), f32_bytes(vectors[i]))
            self.assertEqual(json.loads(rows[key]["metadata_text"]) if "metadata_text" in rows[key]
                             else rows[key].get("metadata"), metas[i])
        # Into an existing, non-empty collection: upserts (the key is the primary key).
        FakeMilvusV2.requests = []
        self.ctl("export", "v2src", f"milvus://127.0.0.1:{self.port}/mydb/target", "--api", "v2", "--token", "root:Milvus")
        paths = [p for p, _, _ in FakeMilvusV2.requests]
        self.assertNotIn("/v2/vectordb/collections/list", paths, "--api v2 skips detection")
        self.assertEqual(paths.count("/v2/vectordb/entities/upsert"), 1)
        self.assertNotIn("/v2/vectordb/entities/insert", paths)

    def test_auth_failure_is_named(self) -> None:
        self.raw_collection("authsrc", 3, 4, seed=10)
        FakeMilvusV2.require_token = "root:right"
        r = self.ctl("export", "authsrc", f"milvus://127.0.0.1:{self.port}/t", "--create", "--token", "root:wrong", expect=1)
        self.assertIn("Milvus refused the credentials", r.stderr)
        # $MILVUS_TOKEN is the default.
        r = self.ctl("export", "authsrc", f"milvus://127.0.0.1:{self.port}/t", "--create", token="root:right")
        self.assertIn("REST v2, created", r.stdout)

    def test_forcing_v2_on_a_v1_server_says_so(self) -> None:
        self.raw_collection("v1only", 3, 4, seed=11)

        class V1Only(FakeMilvusV2):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                self.reply(404, {"code": 404})
        server = ThreadingHTTPServer(("127.0.0.1", 0), V1Only)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        r = self.ctl("export", "v1only", f"milvus://127.0.0.1:{server.server_address[1]}/t", "--api", "v2", expect=1)
        self.assertIn("has no REST v2 API", r.stderr)


if __name__ == "__main__":
    unittest.main()
