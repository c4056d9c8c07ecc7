"""Filtered search through the real daemon (issue 26, item 3): every operator of the filter
language, nesting, arrays, nested objects and missing fields, checked against a plain Python
evaluation of the same semantics; a narrow filter (exact scan) and a wide one (graph walk); and
a mistake reported with the same words by the Python client and by embedctl.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import unittest
from typing import Any, Dict, List

import _support
from _support import Daemon

import embedd


def setUpModule() -> None:
    reason = _support.missing_daemon_reason()
    if reason:
        raise unittest.SkipTest(f"filter tests skipped: {reason}")


def _some(found: List[Any], test: Any) -> bool:
    """A comparison holds for a scalar, or for some scalar element of an array."""
    for v in found:
        items = v if isinstance(v, list) else [v]
        if any(not isinstance(x, (list, dict)) and test(x) for x in items):
            return True
    return False


def _same_type(a: Any, b: Any) -> bool:
    num = lambda x: isinstance(x, (int, float)) and not isinstance(x, bool)  # noqa: E731
    return (num(a) and num(b)) or (type(a) is type(b) and not num(a))


def _lookup(meta: Dict[str, Any], path: str) -> List[Any]:
    out = []
    for name, value in meta.items():
        if name == path:
            out.append(value)
        elif path.startswith(name + ".") and isinstance(value, dict):
            out += _lookup(value, path[len(name) + 1:])
    return out


def holds(f: Dict[str, Any], meta: Dict[str, Any]) -> bool:
    """The filter language's meaning (docs/operations.md, "Filters"), written plainly."""
    for name, cond in f.items():
        if name == "$and":
            ok = all(holds(x, meta) for x in cond)
        elif name == "$or":
            ok = any(holds(x, meta) for x in cond)
        elif name == "$not":
            ok = not holds(cond, meta)
        else:
            ok = _condition(_lookup(meta, name), cond)
        if not ok:
            return False
    return True


def _condition(found: List[Any], cond: Any) -> bool:
    eq = lambda v: lambda x: _same_type(x, v) and x == v  # noqa: E731
    if isinstance(cond, list):
        return _some(found, lambda x: any(eq(v)(x) for v in cond))
    if not isinstance(cond, dict):
        return _some(found, eq(cond))
    for op, v in cond.items():
        if op == "$eq":
            ok = _some(found, eq(v))
        elif op == "$ne":
            ok = not _some(found, eq(v))
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            key = (lambda s: s.encode()) if isinstance(v, str) else (lambda s: s)
            vv = key(v)
            cmp = {"$gt": lambda x: key(x) > vv, "$gte": lambda x: key(x) >= vv,
                   "$lt": lambda x: key(x) < vv, "$lte": lambda x: key(x) <= vv}[op]
            ok = _some(found, lambda x: _same_type(x, v) and cmp(x))
        elif op == "$in":
            ok = _some(found, lambda x: any(eq(w)(x) for w in v))
        elif op == "$nin":
            ok = not _some(found, lambda x: any(eq(w)(x) for w in v))
        elif op == "$exists":
            ok = bool(found) == v
        elif op == "$contains":
            ok = any(isinstance(a, list) and any(eq(v)(x) for x in a if not isinstance(x, (list, dict))) for a in found)
        elif op == "$not":
            ok = not _condition(found, v)
        else:
            raise AssertionError(op)
        if not ok:
            return False
    return True


FILTERS: List[Dict[str, Any]] = [
    {"lang": "en"},
    {"year": [2021, 2023]},
    {"year": {"$gte": 2021, "$lt": 2024}},
    {"year": {"$ne": 2022}},
    {"title": {"$gt": "m"}},
    {"title": {"$lte": "c"}},
    {"tags": "go"},
    {"tags": {"$contains": "rust"}},
    {"tags": {"$nin": ["go", "c"]}},
    {"extra": {"$exists": True}},
    {"extra": {"$exists": False}, "lang": {"$in": ["de", "fr"]}},
    {"info.pages": {"$gt": 300}},
    {"info.pages": {"$not": {"$gt": 300}}},
    {"$or": [{"lang": "de"}, {"tags": {"$contains": "c"}}]},
    {"$and": [{"year": {"$gt": 2020}}, {"$not": {"lang": "en"}}]},
    {"$or": [{"$and": [{"lang": "en"}, {"year": 2020}]}, {"rank": {"$lt": 3}}], "title": {"$ne": "zebra"}},
    {"rank": {"$gte": "5"}},       # a string never orders against numbers: nothing matches
    {"year": 2022.0},              # numbers by value
]


class FilterTests(unittest.TestCase):
    daemon: Daemon

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon({"fx": {"dim": "8"}}).start()
        rng = random.Random(26)
        cls.metas = []
        words = ["apple", "cherry", "mango", "zebra", "banana", "kiwi", "c", "m", "ą-ogonek"]
        langs = ["en", "de", "fr", "pl"]
        tags = ["go", "rust", "c", "python"]
        for i in range(600):
            m: Dict[str, Any] = {"lang": langs[i % 4], "year": 2020 + i % 5, "title": words[i % len(words)],
                                 "tags": rng.sample(tags, rng.randint(0, 3)), "rank": i % 10,
                                 "info": {"pages": rng.randint(50, 600)}}
            if i % 3 == 0:
                m["extra"] = None
            if i % 7 == 0:
                m["tags"] = "go"   # a scalar where the others have arrays
            cls.metas.append(m)
        cls.vectors = [[rng.gauss(0, 1) for _ in range(8)] for _ in cls.metas]
        with cls.daemon.client() as c:
            c.create_collection("f", dim=8, metric="l2")
            c.upsert("f", [str(i) for i in range(len(cls.metas))], vectors=cls.vectors, metadata=cls.metas)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.cleanup()

    def exact(self, q: List[float], f: Dict[str, Any], k: int) -> List[str]:
        scored = sorted((sum((a - b) ** 2 for a, b in zip(v, q)), i)
                        for i, (v, m) in enumerate(zip(self.vectors, self.metas)) if holds(f, m))
        return [str(i) for _, i in scored[:k]]

    def test_every_operator_matches_its_documented_meaning(self) -> None:
        rng = random.Random(3)
        with self.daemon.client() as c:
            for f in FILTERS:
                matching = sum(holds(f, m) for m in self.metas)
                for _ in range(3):
                    q = [rng.gauss(0, 1) for _ in range(8)]
                    hits = c.search("f", vector=q, k=10, ef=200, filter=f)
                    for h in hits:
                        self.assertTrue(holds(f, h.metadata), f"{f}: {h.key} {h.metadata}")
                    self.assertEqual(len(hits), min(10, matching), f)
                    # 600 records: the answer is exact (walk at ef 200, or the exact scan).
                    self.assertEqual({h.key for h in hits}, set(self.exact(q, f, 10)), f)
                # The JSON string form is the same filter.
                self.assertEqual(c.search("f", vector=q, k=5, filter=json.dumps(f)), c.search("f", vector=q, k=5, filter=f))

    def test_a_mistake_reads_the_same_in_python_and_embedctl(self) -> None:
        bad = '{"year": {"$gt": true}}'
        with self.daemon.client() as c:
            with self.assertRaises(embedd.InvalidArgumentError) as cm:
                c.search("f", vector=[0.0] * 8, filter=bad)
        self.assertEqual(cm.exception.message, "filter on 'year': \"$gt\" takes a number or a string at byte 17")
        embedctl = self.daemon.binary.resolve().parent / "embedctl"
        if not embedctl.is_file():
            self.skipTest(f"{embedctl} not built")
        r = subprocess.run([str(embedctl), "--socket", self.daemon.socket_path, "search", "f", "--vector-json", json.dumps([0.0] * 8),
                            "--filter", bad], capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, f"embedctl: INVALID_ARGUMENT: {cm.exception.message}\n")


if __name__ == "__main__":
    unittest.main()
