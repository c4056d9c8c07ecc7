"""Documents, Scan, ``embedctl keys`` and ``embedctl dump`` through the real daemon (issue 26,
item 1), with the C fixture plugin (its vectors are recomputed by ``_support.fixture_vector``).
"""

from __future__ import annotations

import json
import os
import subprocess
import unittest
from pathlib import Path
from typing import Any, List

import _support
from _support import Daemon, fixture_media, fixture_vector

import embedd

FIXTURE_MIME = "application/x-embedd-fixture"


def setUpModule() -> None:
    reason = _support.missing_daemon_reason()
    if reason:
        raise unittest.SkipTest(f"document tests skipped: {reason}")


def embedctl() -> Path:
    return _support.find_daemon().resolve().parent / "embedctl"  # type: ignore[union-attr]


class DocumentTests(unittest.TestCase):
    daemon: Daemon

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon({"fx": {"dim": "32"}}).start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.cleanup()

    def client(self, **kw: Any) -> embedd.Client:
        c = self.daemon.client(numpy=False, **kw)
        self.addCleanup(c.close)
        return c

    def fresh(self, c: embedd.Client, name: str, **kw: Any) -> embedd.CollectionInfo:
        return _support.fresh_collection(c, name, **kw)

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run([str(embedctl()), "--socket", self.daemon.socket_path, *args], capture_output=True,
                           text=True, cwd=self.daemon.dir, timeout=60)
        if check and r.returncode != 0:
            self.fail(f"embedctl {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def test_texts_files_and_explicit_documents_come_back_from_get_search_and_scan(self) -> None:
        c = self.client()
        info = self.fresh(c, "docs", model="fx")
        self.assertTrue(info.documents)
        media = self.daemon.dir / "pic.fxtr"
        media.write_bytes(fixture_media(b"a picture"))
        note = self.daemon.dir / "note.txt"
        note.write_text("a plain text file")
        c.upsert("docs", ["t", "fd", "bytes", "note"],
                 ["the cat sat on the mat", embedd.File(media, FIXTURE_MIME, send_fd=True),
                  embedd.File(media, FIXTURE_MIME), embedd.File(note, send_fd=True)])
        c.upsert("docs", ["v", "mine"], vectors=[fixture_vector("v", 32), fixture_vector("w", 32)],
                 documents=["kept beside a vector", {"title": "Mine", "url": "https://example.org/1"}])
        size = len(fixture_media(b"a picture"))
        want = {
            "t": {"text": "the cat sat on the mat"},
            "fd": {"name": str(media), "mime_type": FIXTURE_MIME, "bytes": size},
            "bytes": {"name": str(media), "mime_type": FIXTURE_MIME, "bytes": size},
            "note": {"name": str(note), "mime_type": "text/plain", "text": "a plain text file"},
            "v": {"text": "kept beside a vector"},
            "mine": {"title": "Mine", "url": "https://example.org/1"},
        }
        for key, doc in want.items():
            self.assertEqual(c.get("docs", key).document, doc, key)
        hit = c.search("docs", "the cat sat on the mat", k=1)[0]
        self.assertEqual((hit.key, hit.document), ("t", want["t"]))
        scanned = list(c.scan("docs"))
        self.assertEqual([r.key for r in scanned], sorted(want))
        self.assertEqual({r.key: r.document for r in scanned}, want)
        self.assertTrue(all(r.vector is None for r in scanned))
        # Chroma's shapes carry the text.
        q = c.query("docs", query_texts="the cat sat on the mat", n_results=1)
        self.assertEqual(q["documents"], [["the cat sat on the mat"]])
        self.assertEqual(c.get("docs", ids=["v", "fd"])["documents"], ["kept beside a vector", None])
        # A document over the 1 MiB limit fails its item alone, naming the problem.
        s = c.upsert("docs", ["ok", "bad"], vectors=[fixture_vector("a", 32), fixture_vector("b", 32)],
                     documents=[None, {"text": "x" * (1 << 20)}], check=False)
        self.assertEqual((s.stored, s.failed), (1, 1))
        self.assertIn("document is 1048587 bytes; the limit is 1048576", s.results[1].error)
        self.assertIsNone(c.get("docs", "ok").document)  # a vector without a document has none

    def test_no_documents_opts_out_and_shows_in_describe(self) -> None:
        c = self.client()
        info = self.fresh(c, "nodocs", model="fx", documents=False)
        self.assertFalse(info.documents)
        c.upsert("nodocs", ["a", "b"], ["first text", "second text"], documents=[None, "given explicitly"])
        self.assertIsNone(c.get("nodocs", "a").document)
        self.assertEqual(c.get("nodocs", "b").document, {"text": "given explicitly"})
        self.assertFalse(c.describe_collection("nodocs").documents)
        out = self.ctl("collection", "describe", "nodocs").stdout
        self.assertIn("not recorded (--no-documents)", out)
        # The setting survives a restart (it lives in the collection's binding file).
        self.daemon.stop()
        self.daemon.start()
        c2 = self.daemon.client(numpy=False)
        self.addCleanup(c2.close)
        self.assertFalse(c2.describe_collection("nodocs").documents)

    def test_scan_pages_filters_and_vectors(self) -> None:
        c = self.client()
        self.fresh(c, "pages", dim=4, metric="l2")
        keys = [f"k{i:03d}" for i in range(250)]
        c.upsert("pages", keys, vectors=[[float(i), 0, 0, 1] for i in range(250)],
                 metadata=[{"i": i, "even": i % 2 == 0} for i in range(250)])
        self.assertEqual(list(c.keys("pages")), keys)
        self.assertEqual(list(c.keys("pages", after="k100", limit=3)), ["k101", "k102", "k103"])
        evens = [r.key for r in c.scan("pages", filter={"even": True}, page_size=7)]
        self.assertEqual(evens, keys[::2])
        recs = list(c.scan("pages", after="k248", vectors=True))
        self.assertEqual([(r.key, list(r.vector), r.metadata) for r in recs],
                         [("k249", [249.0, 0.0, 0.0, 1.0], {"i": 249, "even": False})])
        with self.assertRaises(embedd.InvalidArgumentError) as cm:
            list(c.scan("pages", filter="{not json"))
        self.assertIn("filter", cm.exception.message)
        with self.assertRaises(embedd.NotFoundError):
            list(c.scan("no-such-collection"))

    def test_embedctl_keys_dump_and_add_back(self) -> None:
        c = self.client()
        self.fresh(c, "ctl", model="fx")
        texts = ["alpha text", "beta text", "gamma text"]
        self.ctl("add", "ctl", *texts, "--metadata", '{"src": "cli"}')
        r = self.ctl("keys", "ctl")
        self.assertEqual(r.stdout.splitlines(), sorted(texts))
        r = self.ctl("keys", "ctl", "--limit", "2")
        self.assertEqual(r.stdout.splitlines(), sorted(texts)[:2])
        self.assertIn("--after 'beta text'", r.stderr)
        r = self.ctl("keys", "ctl", "--after", "beta text", "--format", "json")
        self.assertEqual(json.loads(r.stdout), {"keys": ["gamma text"], "next_after": None})
        r = self.ctl("keys", "ctl", "--filter", '{"src": "elsewhere"}')
        self.assertEqual(r.stdout, "")
        # The search table shows the document column where it says more than the key; JSON
        # always carries the document.
        r = self.ctl("search", "ctl", "beta text", "-k", "1")
        self.assertNotIn("DOCUMENT", r.stdout)  # the text is its own key
        c.upsert("ctl", "short-key", "delta text")
        r = self.ctl("search", "ctl", "delta text", "-k", "1")
        self.assertIn("DOCUMENT", r.stdout)
        self.assertIn("delta text", r.stdout)
        c.delete("ctl", "short-key")
        r = self.ctl("search", "ctl", "beta text", "-k", "1", "--format", "json")
        self.assertEqual(json.loads(r.stdout)["results"][0][0]["document"], {"text": "beta text"})
        r = self.ctl("get", "ctl", "gamma text", "--format", "json")
        self.assertEqual(json.loads(r.stdout)["document"], {"text": "gamma text"})
        # dump → JSON lines; loaded back with add --jsonl into a raw collection, nothing re-embedded.
        dump = self.ctl("dump", "ctl", "--vectors").stdout
        lines = [json.loads(x) for x in dump.splitlines()]
        self.assertEqual([x["key"] for x in lines], sorted(texts))
        self.assertEqual(lines[0]["metadata"], {"src": "cli"})
        self.assertEqual(lines[0]["document"], {"text": "alpha text"})
        self.assertEqual([_support._f32(x) for x in lines[0]["vector"]], fixture_vector("alpha text", 32))
        self.assertNotIn("vector", json.loads(self.ctl("dump", "ctl").stdout.splitlines()[0]))
        path = self.daemon.dir / "ctl.jsonl"
        path.write_text(dump)
        self.fresh(c, "copy", dim=32)
        self.ctl("add", "copy", "--jsonl", str(path))
        self.assertEqual(self.ctl("dump", "copy", "--vectors").stdout, dump)


if __name__ == "__main__":
    unittest.main()
