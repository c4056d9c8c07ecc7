"""The vector-store API against the real daemon (C fixture plugin, no model weights).

Model-bound collections use the fixture model, whose vectors ``_support.fixture_vector``
recomputes, so stored vectors and search results are checked exactly. Skipped with a message
while the daemon does not serve the store methods (ids 32..41).
"""

from __future__ import annotations

import array
import math
import os
import random
import threading
import unittest
from typing import Any, List

import _support
from _support import Daemon, fixture_media, fixture_vector

import embedd

FIXTURE_MIME = "application/x-embedd-fixture"
SENTENCES = [
    "the cat sat on the mat", "a dog barked at the mailman", "stock markets fell sharply today",
    "the recipe needs two cups of flour", "rain is expected over the weekend", "she plays the violin beautifully",
    "the train to paris leaves at noon", "quantum computers use qubits", "he planted tomatoes in the garden",
    "the museum opens at nine",
]


def setUpModule() -> None:
    reason = _support.missing_daemon_reason()
    if reason:
        raise unittest.SkipTest(f"store tests skipped: {reason}")


def l2(a: List[float], b: List[float]) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b))


class StoreTests(unittest.TestCase):
    daemon: Daemon

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon({"fx": {"dim": "32"}, "other": {"dim": "32", "space": "other/space"}},
                            socket_mode="0666").start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.cleanup()

    def client(self, **kw: Any) -> embedd.Client:
        c = self.daemon.client(**kw)
        self.addCleanup(c.close)
        return c

    def fresh(self, c: embedd.Client, name: str, **kw: Any) -> embedd.CollectionInfo:
        return _support.fresh_collection(c, name, **kw)

    def test_a_text_file_is_stored_and_found_as_its_text(self) -> None:
        # Issue 25, item 1: upsert("docs", "k3", Path("h.txt")) stores the file's text.
        c = self.client()
        self.fresh(c, "textfiles", model="fx")
        path = self.daemon.dir / "h.txt"
        path.write_text("the notes of a meeting", encoding="utf-8")
        s = c.upsert("textfiles", "k3", path)
        self.assertEqual((s.stored, s.failed), (1, 0))
        hits = c.search("textfiles", "the notes of a meeting", k=1)
        self.assertEqual(hits[0].key, "k3")

    def test_raw_collection_round_trip(self) -> None:
        c = self.client()
        info = self.fresh(c, "raw4", dim=4, metric="l2")
        self.assertEqual((info.name, info.dimension, info.metric, info.model), ("raw4", 4, "l2", ""))
        pts = {f"p{i}": [float(i), float(i % 3), float(-i), 0.5] for i in range(20)}
        s = c.upsert("raw4", list(pts), vectors=list(pts.values()),
                     metadata=[{"i": i, "even": i % 2 == 0} for i in range(20)])
        self.assertEqual((s.stored, s.skipped, s.failed), (20, 0, 0))
        self.assertTrue(all(r.outcome == embedd.UpsertOutcome.UPSERT_STORED for r in s.results))
        self.assertEqual(c.count("raw4"), 20)
        rec = c.get("raw4", "p7")
        self.assertEqual((rec.key, list(map(float, rec.vector)), rec.metadata), ("p7", pts["p7"], {"i": 7, "even": False}))
        q = [6.2, 0.9, -6.1, 0.5]
        hits = c.search("raw4", vector=q, k=3)
        want = sorted(pts, key=lambda k: l2(pts[k], q))[:3]
        self.assertEqual([h.key for h in hits], want)
        d2 = l2(pts[want[0]], q)  # the daemon may report the distance or its square
        self.assertTrue(abs(hits[0].score - d2) < 1e-3 or abs(hits[0].score - math.sqrt(d2)) < 1e-3, hits[0])
        self.assertEqual([h.score for h in hits], sorted(h.score for h in hits))
        self.assertEqual(hits[0].metadata["i"], int(want[0][1:]))
        # A filter on metadata, several queries at once (results in query order).
        filtered = c.search("raw4", vector=q, k=3, filter={"even": True})
        self.assertTrue(all(h.metadata["even"] for h in filtered))
        self.assertEqual([h.key for h in filtered], sorted([k for k in pts if int(k[1:]) % 2 == 0], key=lambda k: l2(pts[k], q))[:3])
        multi = c.search("raw4", vectors=[pts["p1"], pts["p15"]], k=1)
        self.assertEqual([[h.key for h in r] for r in multi], [["p1"], ["p15"]])
        self.assertEqual(c.delete("raw4", ["p1", "p2", "nope"]), 2)
        self.assertEqual(c.count("raw4"), 18)
        with self.assertRaises(embedd.NotFoundError):
            c.get("raw4", "p1")
        d = c.describe_collection("raw4")
        self.assertTrue(d.can_read and d.can_write)
        self.assertEqual(d.count, 18)
        self.assertIn("raw4", [x.name for x in c.list_collections()])
        self.assertEqual([x.name for x in c.stats("raw4")], ["raw4"])
        c.drop_collection("raw4")
        with self.assertRaises(embedd.NotFoundError):
            c.count("raw4")

    def test_optimize_reclaims_deleted_records_and_keeps_every_answer(self) -> None:
        c = self.client()
        self.fresh(c, "opt", dim=8, metric="l2")
        rng = random.Random(5)
        pts = {f"k{i}": [rng.uniform(-1, 1) for _ in range(8)] for i in range(600)}
        c.upsert("opt", list(pts), vectors=list(pts.values()), metadata=[{"i": i} for i in range(600)])
        gone = [f"k{i}" for i in range(0, 600, 2)]
        self.assertEqual(c.delete("opt", gone), 300)
        for k in gone[:50]:
            del pts[k]
        c.upsert("opt", gone[:50], vectors=[[9.0 + i] * 8 for i in range(50)])  # replaced: new vectors
        live = {k: v for k, v in pts.items() if k not in gone} | {k: [9.0 + i] * 8 for i, k in enumerate(gone[:50])}
        queries = [[rng.uniform(-1, 1) for _ in range(8)] for _ in range(20)]
        before = [[h.key for h in r] for r in c.search("opt", vectors=queries, k=5, ef=400)]
        self.assertGreater(c.describe_collection("opt").stats.deleted, 0)
        info = c.optimize_collection("opt")
        self.assertEqual((info.name, info.count, info.stats.count, info.stats.deleted, info.stats.unindexed),
                         ("opt", len(live), len(live), 0, 0))
        self.assertEqual(info.stats.nodes, len(live))
        self.assertEqual(info.stats.checkpoint_sequence, info.stats.last_sequence)  # checkpointed
        after = [[h.key for h in r] for r in c.search("opt", vectors=queries, k=5, ef=400)]
        self.assertEqual(after, before)
        exact = [sorted(live, key=lambda k: l2(live[k], q))[:5] for q in queries]
        self.assertEqual(after, exact)
        for k in ("k1", "k599", gone[0], gone[49]):
            self.assertEqual(list(map(float, c.get("opt", k).vector)), array.array("f", live[k]).tolist())
        with self.assertRaises(embedd.NotFoundError):
            c.get("opt", gone[50])
        with self.assertRaises(embedd.NotFoundError):
            c.optimize_collection("no-such-collection")

    def test_repeated_keys_across_chunks_keep_the_last_value_and_nested_queries_are_refused(self) -> None:
        c = self.client()
        self.fresh(c, "dups", dim=2, metric="l2")
        keys = ["dup"] + [f"k{i}" for i in range(10)] + ["dup"]
        vecs = [[1.0, 0.0]] + [[float(i), 1.0] for i in range(10)] + [[0.0, 7.0]]
        s = c.upsert("dups", keys, vectors=vecs, batch=2)  # "dup" in the first and the last chunk
        self.assertEqual(s.stored, 12)
        self.assertEqual(list(map(float, c.get("dups", "dup").vector)), [0.0, 7.0])
        with self.assertRaises(embedd.InvalidArgumentError) as cm:
            c.search("dups", queries=[[[1.0, 2.0], [3.0, 4.0]]])
        self.assertIn("one query is one vector", cm.exception.message)

    def test_a_failed_chunk_reports_what_earlier_chunks_stored(self) -> None:
        c = self.client()
        self.fresh(c, "partial", model="fx")
        keys = [f"p{i}" for i in range(10)]
        texts = [f"sentence number {i}" for i in range(10)]
        texts[5] = "fixture:fail-call"  # the plugin fails the whole call holding it
        for in_order in (False, True):
            ks = keys + (["p0"] if in_order else [])  # a repeated key makes the chunks go in order
            ts = texts + (["sentence number 0"] if in_order else [])
            with self.assertRaises(embedd.EmbeddError) as cm:
                c.upsert("partial", ks, texts=ts, batch=2)
            e = cm.exception
            self.assertIsNotNone(e.partial)
            self.assertIn("p5", e.unconfirmed_keys)
            self.assertIn("p4", e.unconfirmed_keys)  # its chunk-mate
            settled = [r.key for r in e.partial.results]
            self.assertEqual(sorted(set(settled) | set(e.unconfirmed_keys)), sorted(set(ks)))
            # A repeated key whose later value was not sent is both settled and unconfirmed.
            self.assertEqual(set(settled) & set(e.unconfirmed_keys), {"p0"} if in_order else set())
            self.assertEqual(e.partial.stored, len(settled))
            for k in settled:
                self.assertEqual(c.get("partial", k).key, k)
            if in_order:  # chunks after the failed one are not sent
                self.assertEqual(settled, ["p0", "p1", "p2", "p3"])
            self.fresh(c, "partial", model="fx")

    def test_f16_and_int8_storage(self) -> None:
        c = self.client()
        rng = random.Random(8)
        pts = {f"v{i}": [rng.uniform(-1, 1) for _ in range(16)] for i in range(300)}
        for storage, tol in (("f16", 1e-3), ("int8", 1.0 / 127)):
            info = self.fresh(c, "st-" + storage, dim=16, metric="l2", storage=storage)
            self.assertEqual(info.storage, storage)
            self.assertEqual(c.describe_collection("st-" + storage).storage, storage)
            c.upsert("st-" + storage, list(pts), vectors=list(pts.values()))
            got = list(map(float, c.get("st-" + storage, "v7").vector))
            self.assertTrue(all(abs(a - b) <= tol for a, b in zip(got, pts["v7"])), (storage, got, pts["v7"]))
            self.assertEqual(c.search("st-" + storage, vector=pts["v42"], k=1)[0].key, "v42")
        with self.assertRaises(embedd.InvalidArgumentError) as cm:
            c.create_collection("st-bad", dim=4, storage="f8")
        self.assertIn("unknown storage 'f8' (use f32, f16 or int8)", cm.exception.message)
        self.fresh(c, "st-range", dim=2, storage="f16", metric="l2")
        with self.assertRaises(embedd.UpsertError) as ue:  # refused per item: the others are stored
            c.upsert("st-range", ["ok1", "big", "ok2"], vectors=[[1.0, 2.0], [1.0, 1e6], [3.0, 4.0]])
        self.assertIn("outside the range of collection 'st-range''s f16 storage", ue.exception.message)
        s = ue.exception.summary
        self.assertEqual((s.stored, s.failed), (2, 1))
        self.assertEqual(list(map(float, c.get("st-range", "ok2").vector)), [3.0, 4.0])

    def test_numpy_vectors_in_and_out(self) -> None:
        if not embedd.HAS_NUMPY:
            self.skipTest("NumPy not installed (the list path is covered by test_raw_collection_round_trip)")
        import numpy as np
        c = self.client()
        self.fresh(c, "np8", dim=8)
        rng = np.random.default_rng(3)
        vecs = rng.standard_normal((50, 8)).astype(np.float32)
        c.upsert("np8", [f"k{i}" for i in range(50)], vectors=vecs, batch=16)
        self.assertEqual(c.count("np8"), 50)
        rec = c.get("np8", "k31")
        self.assertIsInstance(rec.vector, np.ndarray)
        got = rec.vector / np.linalg.norm(rec.vector)
        self.assertTrue(np.allclose(got, vecs[31] / np.linalg.norm(vecs[31]), atol=1e-6))  # cosine may normalise
        res = c.search("np8", vectors=vecs[:5], k=1)
        self.assertEqual([r[0].key for r in res], [f"k{i}" for i in range(5)])
        c.upsert("np8", "single", vectors=vecs[0])
        self.assertEqual(c.count("np8"), 51)

    def test_model_bound_collection_embeds_texts_and_files(self) -> None:
        c = self.client()
        info = self.fresh(c, "docs", model="fx")
        self.assertEqual((info.model, info.dimension, info.embedding_space, info.metric), ("fx", 32, "fixture/trigram", "cosine"))
        keys = [f"s{i}" for i in range(len(SENTENCES))]
        s = c.upsert("docs", keys, SENTENCES, metadata=[{"n": i} for i in range(len(SENTENCES))])
        self.assertEqual(s.stored, len(SENTENCES))
        rec = c.get("docs", "s3")
        self.assertEqual([float(x) for x in rec.vector], fixture_vector(SENTENCES[3], 32))
        # A slightly misspelt query finds its sentence first (trigram vectors).
        for i in (0, 4, 7):
            hits = c.search("docs", text=SENTENCES[i].replace("the", "teh"), k=3)
            self.assertEqual(hits[0].key, f"s{i}")
            self.assertEqual(hits[0].metadata, {"n": i})
        # The same by vector and as a positional query.
        self.assertEqual(c.search("docs", vector=fixture_vector(SENTENCES[5], 32), k=1)[0].key, "s5")
        self.assertEqual(c.search("docs", SENTENCES[6], k=1)[0].key, "s6")
        # Files: read by the client and embedded by the daemon.
        path = self.daemon.dir / "doc.fxtr"
        path.write_bytes(fixture_media(b"a file about violins"))
        c.upsert("docs", "file1", embedd.File(path, FIXTURE_MIME), metadata={"src": str(path)})
        self.assertEqual(c.search("docs", input=embedd.File(path, FIXTURE_MIME), k=1)[0].key, "file1")
        self.assertEqual([float(x) for x in c.get("docs", "file1").vector], fixture_vector("a file about violins", 32))

    def test_files_passed_as_descriptors(self) -> None:
        c = self.client()
        self.fresh(c, "fds", model="fx")
        media = self.daemon.dir / "fd.fxtr"
        media.write_bytes(fixture_media(b"passed by descriptor"))
        text = self.daemon.dir / "note.txt"
        text.write_text("a plain text file")
        os.chmod(media, 0o600)
        # embed, upsert and search all take descriptors; text/plain is read as text.
        got = c.embed([embedd.File(media, FIXTURE_MIME, send_fd=True), embedd.File(text, send_fd=True)], model="fx")
        want = [fixture_vector("passed by descriptor", 32), fixture_vector("a plain text file", 32)]
        self.assertEqual(_support.rows(got), want)
        c.upsert("fds", ["m", "t"], [embedd.File(media, FIXTURE_MIME, send_fd=True), embedd.File(text, send_fd=True)])
        self.assertEqual([float(x) for x in c.get("fds", "t").vector], want[1])
        hits = c.search("fds", input=embedd.File(media, FIXTURE_MIME, send_fd=True), k=1)
        self.assertEqual(hits[0].key, "m")

    def test_mixed_spaces_and_bad_items_are_refused(self) -> None:
        c = self.client()
        self.fresh(c, "mix", model="fx")
        c.upsert("mix", ["a"], ["alpha"])
        with self.assertRaises(embedd.InvalidArgumentError) as cm:
            c.search("mix", text="alpha", model="other")
        self.assertIn("fx", cm.exception.message)
        with self.assertRaises(embedd.InvalidArgumentError) as cm2:
            c.upsert("mix", ["b"], ["beta"], model="other")
        self.assertIn("fx", cm2.exception.message)
        # A vector of the wrong dimension fails alone, naming the collection's model.
        with self.assertRaises(embedd.UpsertError) as cm3:
            c.upsert("mix", ["good", "bad"], vectors=[fixture_vector("g", 32), [1.0, 2.0]])
        self.assertIn("'fx'", cm3.exception.message)
        self.assertIn("bad", cm3.exception.message)
        self.assertEqual((cm3.exception.summary.stored, cm3.exception.summary.failed), (1, 1))
        # An input the model rejects fails alone; the other items are stored.
        with self.assertRaises(embedd.UpsertError) as cm4:
            c.upsert("mix", ["good", "empty"], ["fine text", "   "])
        summary = cm4.exception.summary
        self.assertEqual((summary.stored, summary.failed), (1, 1))
        self.assertEqual([r.outcome for r in summary.results],
                         [embedd.UpsertOutcome.UPSERT_STORED, embedd.UpsertOutcome.UPSERT_FAILED])
        self.assertIn("empty", cm4.exception.message)
        self.assertEqual(c.get("mix", "good").key, "good")
        with self.assertRaises(embedd.NotFoundError):
            c.get("mix", "empty")
        s = c.upsert("mix", ["empty2"], ["  "], check=False)
        self.assertEqual((s.stored, s.failed), (0, 1))
        self.assertEqual(s.results[0].outcome, embedd.UpsertOutcome.UPSERT_FAILED)
        with self.assertRaises(embedd.NotFoundError):
            c.search("no-such-collection", text="x")
        with self.assertRaises(embedd.InvalidArgumentError):
            c.search("mix")  # no query at all (refused locally)
        with self.assertRaises(embedd.InvalidArgumentError):
            c.upsert("mix", ["a", "b"], ["only one"])

    def test_one_bad_item_fails_alone_and_the_others_are_stored(self) -> None:
        # Issue 25, item 2: upsert("c", ["a", "b"], vectors=[[1,2,3,4], [1,2,3]]) raised
        # "the vector of item 1 (key 'b') has 3 components" and stored nothing, check=False too.
        c = self.client(numpy=False)
        self.fresh(c, "onebad", dim=4, metric="cosine")
        with self.assertRaises(embedd.UpsertError) as cm:
            c.upsert("onebad", ["a", "b"], vectors=[[1, 2, 3, 4], [1, 2, 3]])
        e = cm.exception
        self.assertIsInstance(e, embedd.InvalidArgumentError)
        self.assertEqual((e.summary.stored, e.summary.skipped, e.summary.failed), (1, 0, 1))
        self.assertEqual([(r.key, r.outcome) for r in e.summary.results],
                         [("a", embedd.UpsertOutcome.UPSERT_STORED), ("b", embedd.UpsertOutcome.UPSERT_FAILED)])
        self.assertIn("3 components", e.summary.results[1].error)
        self.assertIn("4-dimensional", e.summary.results[1].error)
        self.assertTrue(e.message.startswith("1 of 2 items were not stored (1 stored, 0 skipped): key 'b': "), e.message)
        self.assertEqual(c.count("onebad"), 1)  # stored before the error was raised
        self.assertEqual(list(c.get("onebad", "a").vector), [1, 2, 3, 4])
        s = c.upsert("onebad", ["a2", "b2"], vectors=[[1, 2, 3, 4], [1, 2, 3]], check=False)
        self.assertEqual((s.stored, s.failed), (1, 1))
        self.assertEqual(c.count("onebad"), 2)

    def test_every_kind_of_bad_item_gets_its_own_result_in_item_order(self) -> None:
        c = self.client(numpy=False)
        self.fresh(c, "manybad", dim=4, metric="cosine")
        nan = float("nan")
        keys = ["ok0", "short", "nan", "ok3", "", "b\udc80", "text", "ok7", "zero", "meta", "notjson", "ok11"]
        vecs: List[Any] = [[1, 0, 0, 0], [1, 2], [1, nan, 0, 0], [0, 1, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0],
                           [1, "x", 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1], [1, 0, 1, 0], [0, 1, 1, 0]]
        meta: List[Any] = [None] * 12
        meta[9] = {"s": {1, 2}}        # not JSON-serialisable
        meta[10] = "[1, 2]"            # JSON, but not an object
        for batch in (256, 2):          # one call; several concurrent calls
            s = c.upsert("manybad", keys, vectors=vecs, metadata=meta, batch=batch, check=False)
            self.assertEqual([r.key for r in s.results], keys)
            ok = {"ok0", "ok3", "ok7", "ok11"}
            self.assertEqual([r.outcome == embedd.UpsertOutcome.UPSERT_STORED for r in s.results],
                             [k in ok for k in keys])
            self.assertEqual((s.stored, s.skipped, s.failed), (4, 0, 8))
            why = {r.key: r.error for r in s.results}
            self.assertIn("2 components", why["short"])
            self.assertIn("NaN", why["nan"])
            self.assertIn("key", why[""])
            self.assertIn("UTF-8", why["b\udc80"])
            self.assertIn("numbers", why["text"])
            self.assertIn("zero vector", why["zero"])
            self.assertIn("JSON-serialisable", why["meta"])
            self.assertIn("JSON object", why["notjson"])
            self.assertEqual(c.count("manybad"), 4)
        # Inputs: an unreadable file or a value that is no input fails alone too.
        self.fresh(c, "manybad-text", model="fx")
        missing = self.daemon.dir / "no-such-file.txt"
        s = c.upsert("manybad-text", ["t0", "gone", "fd", "int", "t4"],
                     ["first", missing, embedd.File(str(missing), send_fd=True), 42, "last"], check=False)
        self.assertEqual([r.outcome == embedd.UpsertOutcome.UPSERT_STORED for r in s.results],
                         [True, False, False, False, True])
        self.assertIn("cannot read", s.results[1].error)
        self.assertIn("cannot open", s.results[2].error)
        self.assertIn("cannot embed a int", s.results[3].error)
        with self.assertRaises(embedd.UpsertError) as cm:
            c.upsert("manybad-text", ["x", "y", "z", "w", "v"], ["a", 1, 2, 3, 4])
        self.assertTrue(cm.exception.message.startswith("4 of 5 items were not stored"), cm.exception.message)
        self.assertIn("(and 1 more)", cm.exception.message)
        # Only one bad item and nothing else: the summary, nothing sent.
        s = c.upsert("manybad-text", "solo", 3.5, check=False)
        self.assertEqual((s.stored, s.failed, [r.key for r in s.results]), (0, 1, ["solo"]))

    def test_problems_of_the_whole_call_still_raise_at_once(self) -> None:
        c = self.client(numpy=False)
        self.fresh(c, "wholecall", dim=4, metric="l2")
        cases = [
            (dict(keys=["a", "b"], vectors=[[1, 2, 3, 4]]), "2 keys but 1 vectors"),
            (dict(keys=["a"], inputs=["x", "y"]), "1 keys but 2 inputs"),
            (dict(keys=["a", "b"], vectors=[[1, 2, 3, 4]] * 2, metadata=[{}]), "metadata must be one entry per key"),
            (dict(keys=["a"]), "either inputs"),
        ]
        for kw, want in cases:
            with self.subTest(want=want):
                with self.assertRaises(embedd.InvalidArgumentError) as cm:
                    c.upsert("wholecall", check=False, **kw)  # type: ignore[arg-type]
                self.assertNotIsInstance(cm.exception, embedd.UpsertError)
                self.assertIn(want, cm.exception.message)
        self.assertEqual(c.count("wholecall"), 0)
        # A collection that does not exist is the daemon's answer for the whole call.
        with self.assertRaises(embedd.NotFoundError):
            c.upsert("no-such-collection", ["a"], vectors=[[1, 2, 3, 4]], check=False)

    def test_scores_per_metric_and_their_direction(self) -> None:
        # Issue 25, item 10: what score means, pinned for each metric. q = (2, 0).
        c = self.client(numpy=False)
        pts = {"x": [1.0, 0.0], "y": [0.0, 1.0], "z": [3.0, 0.0], "w": [-1.0, 1.0]}
        want = {
            # cosine similarity, higher is closer (x and z point the same way as q)
            "cosine": [("x", 1.0), ("z", 1.0), ("y", 0.0), ("w", -math.sqrt(0.5))],
            # Euclidean distance (not squared), lower is closer
            "l2": [("x", 1.0), ("z", 1.0), ("y", math.sqrt(5)), ("w", math.sqrt(10))],
            # dot product, higher is closer
            "ip": [("z", 6.0), ("x", 2.0), ("y", 0.0), ("w", -2.0)],
        }
        for metric, expected in want.items():
            with self.subTest(metric=metric):
                self.fresh(c, f"score-{metric}", dim=2, metric=metric)
                c.upsert(f"score-{metric}", list(pts), vectors=list(pts.values()))
                hits = c.search(f"score-{metric}", vector=[2.0, 0.0], k=4)
                got = [(h.key, h.score) for h in hits]
                tied = 0 if metric == "ip" else 2  # x and z are equally close: either order
                self.assertEqual(sorted(k for k, _ in got[:tied]), sorted(k for k, _ in expected[:tied]))
                self.assertEqual([k for k, _ in got[tied:]], [k for k, _ in expected[tied:]])
                for (_, g), (_, w) in zip(got, expected):
                    self.assertAlmostEqual(g, w, places=5)
                r = c.query(f"score-{metric}", query_embeddings=[[2.0, 0.0]], n_results=4)
                self.assertEqual(r["metric"], metric)
                self.assertEqual(r["scores"], [[h.score for h in hits]])
                chroma = {"cosine": lambda s: 1 - s, "l2": lambda s: s * s, "ip": lambda s: 1 - s}[metric]
                for d, (_, w) in zip(r["distances"][0], expected):
                    self.assertAlmostEqual(d, chroma(w), places=5)
                self.assertEqual(r["distances"][0], sorted(r["distances"][0]))  # lower is closer, always

    def test_chroma_shaped_add_query_get_delete(self) -> None:
        # Issue 25, item 10: Chroma's calls alongside the embedd ones.
        c = self.client(numpy=False)
        self.fresh(c, "chroma", model="fx")
        docs = SENTENCES[:5]
        s = c.add("chroma", ids=[f"d{i}" for i in range(5)], documents=docs,
                  metadatas=[{"lang": "en", "i": i} for i in range(5)])
        self.assertEqual((s.stored, s.failed), (5, 0))
        r = c.query("chroma", query_texts=[docs[1], docs[3]], n_results=2)
        self.assertEqual(set(r), {"ids", "distances", "scores", "metadatas", "documents", "metric"})
        self.assertEqual([d[0] for d in r["documents"]], [docs[1], docs[3]])
        self.assertEqual([ids[0] for ids in r["ids"]], ["d1", "d3"])
        self.assertEqual([len(ids) for ids in r["ids"]], [2, 2])
        self.assertEqual(r["metadatas"][0][0], {"lang": "en", "i": 1})
        self.assertAlmostEqual(r["distances"][0][0], 0.0, places=5)   # the same text: cosine distance 0
        self.assertAlmostEqual(r["scores"][0][0], 1.0, places=5)
        one = c.query("chroma", query_texts=docs[2], n_results=1, where={"i": {"$in": [2, 4]}})
        self.assertEqual(one["ids"], [["d2"]])
        both = c.query("chroma", query_texts=docs[2], n_results=5, where={"$and": [{"lang": "en"}, {"i": [2, 4]}]})
        self.assertEqual(sorted(both["ids"][0]), ["d2", "d4"])
        # Chroma's other operators pass through with the same meaning.
        either = c.query("chroma", query_texts=docs[2], n_results=5, where={"$or": [{"i": 1}, {"i": {"$gte": 4}}]})
        self.assertEqual(sorted(either["ids"][0]), ["d1", "d4"])
        rest = c.query("chroma", query_texts=docs[2], n_results=5, where={"i": {"$nin": [0, 1]}, "lang": {"$ne": "de"}})
        self.assertEqual(sorted(rest["ids"][0]), ["d2", "d3", "d4"])
        with self.assertRaises(embedd.InvalidArgumentError) as cm3:
            c.query("chroma", query_texts="x", where={"i": {"$regex": "1"}})
        self.assertEqual(cm3.exception.message, "filter on 'i': unknown operator '$regex' (supported: $eq, $ne, $gt, $gte, "
                                                "$lt, $lte, $in, $nin, $exists, $contains, $not) at byte 6")
        # Embeddings instead of documents (vectors in the model's space), and get/delete by ids.
        s = c.add("chroma", ids=["v"], embeddings=[fixture_vector("vectors too", 32)], metadatas=[{"src": "vec"}])
        self.assertEqual(s.stored, 1)
        self.assertEqual(c.query("chroma", query_embeddings=fixture_vector("vectors too", 32), n_results=1)["ids"],
                         [["v"]])
        got = c.get("chroma", ids=["d0", "nope", "v"])
        self.assertEqual(got["ids"], ["d0", "v"])
        self.assertEqual(got["metadatas"], [{"lang": "en", "i": 0}, {"src": "vec"}])
        self.assertEqual([list(e) for e in got["embeddings"]],
                         [fixture_vector(docs[0], 32), fixture_vector("vectors too", 32)])
        self.assertEqual(c.get("chroma", ids=[]), {"ids": [], "embeddings": [], "metadatas": [], "documents": []})
        self.assertEqual(got["documents"], [docs[0], None])
        self.assertEqual(c.delete("chroma", ids=["d0", "v", "nope"]), 2)
        self.assertEqual(c.count("chroma"), 4)
        # A bad item fails alone here too; mistakes of the call are named.
        with self.assertRaises(embedd.UpsertError) as cm:
            c.add("chroma", ids=["ok", "blank"], documents=["fine", "  "])
        self.assertEqual(cm.exception.summary.stored, 1)
        # Documents with embeddings: the vectors are stored, the texts kept beside them.
        s = c.add("chroma", ids=["both"], documents=["its text"], embeddings=[fixture_vector("elsewhere", 32)])
        self.assertEqual(s.stored, 1)
        self.assertEqual(c.get("chroma", ids=["both"])["documents"], ["its text"])
        self.assertEqual(list(c.get("chroma", "both").vector), fixture_vector("elsewhere", 32))
        c.delete("chroma", ids=["both"])
        for call, want in [(lambda: c.query("chroma"), "query_texts or query_embeddings"),
                           (lambda: c.delete("chroma"), "keys or ids"),
                           (lambda: c.get("chroma"), "needs a key")]:
            with self.assertRaises(embedd.InvalidArgumentError) as cm2:
                call()
            self.assertIn(want, cm2.exception.message)
        with self.assertRaises(embedd.NotFoundError):
            c.get("no-such-collection", ids=["a"])

    def test_skip_existing_and_exist_ok(self) -> None:
        c = self.client()
        self.fresh(c, "resume", model="fx")
        c.upsert("resume", ["a", "b"], ["one", "two"])
        s = c.upsert("resume", ["a", "b", "c"], ["changed", "changed", "three"], skip_existing=True)
        self.assertEqual((s.stored, s.skipped), (1, 2))
        self.assertEqual([float(x) for x in c.get("resume", "a").vector], fixture_vector("one", 32))
        with self.assertRaises(embedd.AlreadyExistsError):
            c.create_collection("resume", model="fx")
        self.assertEqual(c.create_collection("resume", model="fx", exist_ok=True).name, "resume")

    def test_concurrent_upserts_and_searches(self) -> None:
        c = self.client()
        self.fresh(c, "busy", model="fx")
        failures: List[str] = []

        def worker(k: int) -> None:
            try:
                for i in range(15):
                    text = f"worker {k} sentence {i} about topic {k * 100 + i}"
                    c.upsert("busy", f"{k}-{i}", text)
                    hits = c.search("busy", text=text, k=1)
                    if not hits or hits[0].key != f"{k}-{i}":
                        failures.append(f"{k}-{i}: {hits[:1]}")
            except Exception as e:
                failures.append(repr(e))

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(failures, [])
        self.assertEqual(c.count("busy"), 120)

    def test_records_survive_a_restart(self) -> None:
        c = self.client()
        self.fresh(c, "durable", model="fx")
        c.upsert("durable", [f"d{i}" for i in range(len(SENTENCES))], SENTENCES)
        before = [h.key for h in c.search("durable", text="a violin played", k=5)]
        c.close()
        self.assertEqual(self.daemon.stop(), 0)
        self.daemon.start()
        c2 = self.client()
        self.assertEqual(c2.count("durable"), len(SENTENCES))
        self.assertEqual([h.key for h in c2.search("durable", text="a violin played", k=5)], before)

    def test_reader_without_write_permission(self) -> None:
        if os.getuid() != 0:
            self.skipTest("needs uid 0 to run a child as another user")
        c = self.client()
        self.fresh(c, "shared", model="fx")
        c.upsert("shared", ["x"], ["shared text"])
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); import embedd\n"
            "c = embedd.Client(sys.argv[2])\n"
            "print('search', [h.key for h in c.search('shared', text='shared text', k=1)])\n"
            "try:\n    c.upsert('shared', ['y'], ['nope'])\nexcept embedd.PermissionDeniedError as e:\n    print('upsert', e.code_name)\n"
            "try:\n    c.drop_collection('shared')\nexcept embedd.PermissionDeniedError as e:\n    print('drop', e.code_name)\n"
            "try:\n    c.optimize_collection('shared')\nexcept embedd.PermissionDeniedError as e:\n    print('optimize', e.code_name)\n"
        )
        r = _support.run_client_as_nobody(self, code, self.daemon.socket_path)
        self.assertIn("search ['x']", r.stdout)
        self.assertIn("upsert PERMISSION_DENIED", r.stdout)
        self.assertIn("drop PERMISSION_DENIED", r.stdout)
        self.assertIn("optimize PERMISSION_DENIED", r.stdout)
        self.assertEqual(c.count("shared"), 1)


class SmallFrameTests(unittest.TestCase):
    """A daemon with a 64 KiB frame limit: the client splits big upserts by size."""

    def test_upserts_are_split_to_fit_the_frame_limit(self) -> None:
        daemon = Daemon({"fx": {"dim": "32"}}, limits={"max_frame_bytes": "64KiB"}).start()
        self.addCleanup(daemon.cleanup)
        c = daemon.client()
        self.addCleanup(c.close)
        c.create_collection("wide", dim=256, metric="l2")
        vecs = [[float(i)] * 256 for i in range(200)]  # ~200 KiB in one batch of 256 items
        s = c.upsert("wide", [f"v{i}" for i in range(200)], vectors=vecs)
        self.assertEqual((s.stored, s.failed), (200, 0))
        self.assertEqual(c.count("wide"), 200)
        self.assertEqual(list(map(float, c.get("wide", "v199").vector)), [199.0] * 256)


if __name__ == "__main__":
    unittest.main()
