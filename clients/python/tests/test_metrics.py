"""The Metrics call (protocol 1.3) against the real daemon (C fixture plugin, no weights).

Scrapes twice around embeds, upserts, a search and a failing call, parses both with
``prometheus_client``'s own text parser (what a Prometheus client library accepts is the
contract, not our reading of the format) and checks that the counters moved by what was done.

``prometheus_client`` comes from the test venv (tools/test-requirements.txt). Without it these
tests skip with a warning on stderr — except under ``CI=true``, where a missing parser fails.
"""

from __future__ import annotations

import math
import os
import subprocess
import time
import unittest
from typing import Dict, List, Optional, Tuple

import _support
from _support import Daemon

import embedd

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # pragma: no cover - depends on the venv
    text_string_to_metric_families = None  # type: ignore[assignment]

Labels = Tuple[Tuple[str, str], ...]


def setUpModule() -> None:
    if text_string_to_metric_families is None:
        message = ("prometheus_client is not installed: the metrics tests need its parser "
                   "(pip install -r tools/test-requirements.txt into the test venv, tools/test-venv)")
        if os.environ.get("CI") == "true":
            raise RuntimeError(message)
        print(f"\n*** SKIPPING test_metrics: {message} ***", file=sys.stderr)
        raise unittest.SkipTest(message)
    reason = _support.missing_daemon_reason()
    if reason:
        raise unittest.SkipTest(f"metrics tests skipped: {reason}")


class Scrape:
    """One parsed exposition: samples by (name, sorted labels), and the families' types."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: Dict[Tuple[str, Labels], float] = {}
        self.types: Dict[str, str] = {}
        for family in text_string_to_metric_families(text):
            self.types[family.name] = family.type
            for s in family.samples:
                key = (s.name, tuple(sorted(s.labels.items())))
                if key in self.samples:
                    raise AssertionError(f"sample {key} appears twice")
                self.samples[key] = s.value

    def get(self, name: str, **labels: str) -> Optional[float]:
        return self.samples.get((name, tuple(sorted(labels.items()))))

    def value(self, name: str, **labels: str) -> float:
        v = self.get(name, **labels)
        if v is None:
            raise AssertionError(f"no sample {name}{labels} in:\n" + "\n".join(
                line for line in self.text.splitlines() if line.startswith(name)))
        return v

    def or_zero(self, name: str, **labels: str) -> float:
        return self.get(name, **labels) or 0.0

    def label_sets(self, name: str) -> List[Dict[str, str]]:
        return [dict(labels) for (n, labels) in self.samples if n == name]


class MetricsTests(unittest.TestCase):
    daemon: Daemon

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon({"fx": {"dim": "32"}}, socket_mode="0666").start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.cleanup()

    def client(self) -> embedd.Client:
        c = self.daemon.client()
        self.addCleanup(c.close)
        return c

    def test_counters_move(self) -> None:
        c = self.client()
        before = Scrape(c.metrics())

        c.embed(["one sentence", "another one", "and a third"], model="fx")
        c.embed("a lone sentence", model="fx")
        with self.assertRaises(embedd.NotFoundError):
            c.embed("nobody serves this", model="no-such-model")
        _support.fresh_collection(c, "metrics", model="fx")
        c.upsert("metrics", [f"k{i}" for i in range(5)], [f"text number {i}" for i in range(5)])
        c.search("metrics", text="text number 3", k=2)

        after = Scrape(c.metrics())

        def moved(name: str, **labels: str) -> float:
            return after.or_zero(name, **labels) - before.or_zero(name, **labels)

        # Calls by method and status code (the failing Embed is NOT_FOUND, not OK).
        self.assertGreaterEqual(moved("embedd_calls_total", method="Embed", code="OK"), 2)
        self.assertEqual(moved("embedd_calls_total", method="Embed", code="NOT_FOUND"), 1)
        self.assertGreaterEqual(moved("embedd_calls_total", method="Upsert", code="OK"), 1)
        self.assertGreaterEqual(moved("embedd_calls_total", method="Search", code="OK"), 1)
        # The first scrape was answered before the second was written.
        self.assertGreaterEqual(after.value("embedd_calls_total", method="Metrics", code="OK"), 1)
        self.assertGreaterEqual(moved("embedd_call_duration_seconds_count", method="Embed"), 3)
        self.assertGreater(moved("embedd_call_duration_seconds_sum", method="Embed"), 0)

        # Plugin calls: the two embeds, the upsert's texts and the search's query.
        self.assertGreaterEqual(moved("embedd_batch_size_count", model="fx"), 3)
        self.assertGreaterEqual(moved("embedd_batch_size_sum", model="fx"), 3 + 1 + 5 + 1)
        self.assertEqual(moved("embedd_embed_duration_seconds_count", model="fx"),
                         moved("embedd_batch_size_count", model="fx"))
        # The lone sentence was a batch of one (nothing else was queued beside it).
        self.assertGreaterEqual(moved("embedd_batch_size_bucket", model="fx", le="1"), 1)

        # The collection, and the fsync of its upsert.
        self.assertIsNone(before.get("embedd_collection_records", collection="metrics"))
        self.assertEqual(after.value("embedd_collection_records", collection="metrics"), 5)
        self.assertEqual(after.value("embedd_collection_deleted", collection="metrics"), 0)
        self.assertGreater(after.value("embedd_collection_wal_bytes", collection="metrics"), 0)
        self.assertGreaterEqual(after.value("embedd_collection_unindexed", collection="metrics"), 0)
        self.assertGreaterEqual(after.value("embedd_collection_snapshot_bytes", collection="metrics"), 0)
        self.assertGreaterEqual(moved("embedd_wal_fsync_duration_seconds_count"), 1)

        # Gauges read at scrape time.
        self.assertEqual(after.value("embedd_model_state", model="fx", state="ready"), 1)
        self.assertEqual(after.value("embedd_model_state", model="fx", state="failed"), 0)
        self.assertGreaterEqual(after.value("embedd_model_generation", model="fx"), 1)
        self.assertEqual(after.value("embedd_queue_depth", model="fx"), 0)
        self.assertEqual(after.value("embedd_shed_calls_total", model="fx"), 0)
        self.assertGreaterEqual(after.value("embedd_connections"), 1)
        self.assertGreater(after.value("process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(after.value("process_open_fds"), 3)
        start = after.value("process_start_time_seconds")
        self.assertTrue(time.time() - 3600 < start <= time.time() + 1, start)
        self.assertGreaterEqual(after.value("process_cpu_seconds_total"), before.value("process_cpu_seconds_total"))
        (info,) = after.label_sets("embedd_build_info")
        self.assertEqual(info["protocol"], "1.3")
        self.assertTrue(info["version"])

        self.assertEqual(after.types["embedd_calls"], "counter")
        self.assertEqual(after.types["embedd_call_duration_seconds"], "histogram")
        self.assertEqual(after.types["embedd_queue_depth"], "gauge")
        self.assertEqual(after.types["process_cpu_seconds"], "counter")

    def test_histograms_are_consistent(self) -> None:
        c = self.client()
        c.embed(["x"] * 3, model="fx")
        s = Scrape(c.metrics())
        for family in ("embedd_call_duration_seconds", "embedd_embed_duration_seconds", "embedd_batch_size",
                       "embedd_wal_fsync_duration_seconds"):
            series: Dict[Labels, List[Tuple[float, float]]] = {}
            for (name, labels), v in s.samples.items():
                if name == family + "_bucket":
                    d = dict(labels)
                    le = d.pop("le")
                    series.setdefault(tuple(sorted(d.items())), []).append((float(le), v))
            self.assertTrue(series or family == "embedd_wal_fsync_duration_seconds", family)
            for labels, buckets in series.items():
                buckets.sort()
                counts = [v for _, v in buckets]
                self.assertEqual(counts, sorted(counts), f"{family}{labels}: buckets not cumulative")
                self.assertTrue(math.isinf(buckets[-1][0]), f"{family}{labels}: no +Inf bucket")
                d = dict(labels)
                self.assertEqual(buckets[-1][1], s.value(family + "_count", **d), f"{family}{labels}: +Inf != _count")
        # A three-input call lands in the le="4" bucket of the batch sizes, not in le="2".
        self.assertGreater(s.value("embedd_batch_size_bucket", model="fx", le="4"),
                           s.value("embedd_batch_size_bucket", model="fx", le="2"))

    def test_embedctl_prints_the_same_exposition(self) -> None:
        embedctl = self.daemon.binary.resolve().parent / "embedctl"
        if not embedctl.is_file():
            self.skipTest(f"{embedctl} not built")
        r = subprocess.run([str(embedctl), "--socket", self.daemon.socket_path, "metrics"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        s = Scrape(r.stdout)
        self.assertEqual(s.value("embedd_model_state", model="fx", state="ready"), 1)
        self.assertTrue(r.stdout.startswith("# HELP "), r.stdout[:200])
        h = subprocess.run([str(embedctl), "metrics", "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(h.returncode, 0, h.stderr)
        self.assertIn("Prometheus", h.stdout)

    def test_collections_the_caller_cannot_read_are_left_out(self) -> None:
        if os.getuid() != 0:
            self.skipTest("needs uid 0 to run a child as another user")
        c = self.client()
        _support.fresh_collection(c, "metrics-private", model="fx", acl=embedd.CollectionAcl(restrict_read=True))
        _support.fresh_collection(c, "metrics-public", model="fx")
        c.upsert("metrics-private", ["a"], ["secret text"])
        c.upsert("metrics-public", ["a", "b"], ["open text", "more open text"])
        self.assertEqual(Scrape(c.metrics()).value("embedd_collection_records", collection="metrics-private"), 1)
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import embedd\n"
                "print(embedd.Client(sys.argv[2]).metrics())\n")
        r = _support.run_client_as_nobody(self, code, self.daemon.socket_path)
        s = Scrape(r.stdout)
        self.assertEqual(s.value("embedd_collection_records", collection="metrics-public"), 2)
        self.assertIsNone(s.get("embedd_collection_records", collection="metrics-private"))
        self.assertNotIn("metrics-private", r.stdout)
        # Everything else is the same for every caller.
        self.assertEqual(s.value("embedd_model_state", model="fx", state="ready"), 1)


if __name__ == "__main__":
    unittest.main()
