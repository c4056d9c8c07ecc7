"""The client against the real ``embedd`` daemon with the C fixture plugin (no model weights).

Each test class starts its own daemon (temp socket, data dir and config) and stops it with
SIGTERM. The fixture's vectors are recomputed in Python (``_support.fixture_vector``), so every
returned vector is checked exactly, also under concurrency. Skipped with a message when the
daemon or the fixture plugin is not built.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import unittest
from pathlib import Path
from typing import List

import _support
from _support import Daemon, assert_rows_equal, find_daemon, fixture_media, fixture_vector, rows

import embedd
from embedd import messages as m

FIXTURE_MIME = "application/x-embedd-fixture"


def setUpModule() -> None:
    reason = _support.missing_daemon_reason()
    if reason:
        raise unittest.SkipTest(f"live daemon tests skipped: {reason}")


class LiveTestCase(unittest.TestCase):
    daemon: Daemon
    MODELS = {"fx": {"dim": "32"}}
    KW: dict = {}

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon(cls.MODELS, **cls.KW).start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.cleanup()

    def client(self, **kw: object) -> embedd.Client:
        c = self.daemon.client(**kw)
        self.addCleanup(c.close)
        return c


class ApiTests(LiveTestCase):
    MODELS = {"fx": {"dim": "32"}, "fx64": {"dim": "64", "version": "v2"}, "slow": {"dim": "16", "delay_us": "300000"}}
    KW = {"socket_mode": "0666"}

    def test_health_status_and_listings(self) -> None:
        c = self.client()
        h = c.health()
        self.assertEqual(h.status, embedd.ServingStatus.SERVING)
        # Printed by name on every Python (issue 25, item 3: 3.11 printed "1").
        self.assertEqual(str(h.status), "ServingStatus.SERVING")
        self.assertEqual(str(c.status().models[0].state), "ModelState.READY")
        self.assertEqual(str(embedd.StatusCode.NOT_FOUND), "StatusCode.NOT_FOUND")
        self.assertIn("3 of 3", h.message)
        st = c.status()
        self.assertEqual(st.pid, self.daemon.process.pid)  # type: ignore[union-attr]
        self.assertEqual(st.socket_path, self.daemon.socket_path)
        self.assertEqual(st.config_path, str(self.daemon.config_path))
        self.assertEqual((st.protocol_major, st.state), (1, "serving"))
        self.assertGreaterEqual(st.calls_total, 2)
        self.assertEqual([x.name for x in st.models], ["fx", "fx64", "slow"])
        models = {x.name: x for x in c.models()}
        self.assertEqual(models["fx"].dimension, 32)
        self.assertTrue(models["fx"].is_default)
        self.assertEqual(models["fx64"].version, "v2")
        self.assertEqual(models["fx"].state, embedd.ModelState.READY)
        self.assertEqual(models["fx"].embedding_space, "fixture/trigram")
        self.assertEqual(models["fx"].metric, "cosine")
        self.assertEqual(models["fx"].mime_types, [FIXTURE_MIME])
        plugins = c.plugins()
        self.assertEqual([p.name for p in plugins], ["fixture"])
        self.assertEqual(plugins[0].abi_version, "1.0")
        hello = c.server_hello
        self.assertEqual(hello.major, 1)
        self.assertTrue(hello.server.startswith("embedd/"))
        self.assertGreater(hello.max_frame_bytes, 0)

    def test_embed_texts_returns_exact_vectors(self) -> None:
        c = self.client()
        texts = ["Hello world", "héllo wörld", "a", "The quick brown fox jumps over the lazy dog", "日本語"]
        got = c.embed(texts)
        if embedd.HAS_NUMPY:
            import numpy as np
            self.assertIsInstance(got, np.ndarray)
            self.assertEqual((got.shape, got.dtype), ((5, 32), np.float32))
        assert_rows_equal(self, got, [fixture_vector(t, 32) for t in texts])
        # One text alone is a (1, dim) result; batching does not change vectors.
        for t in texts:
            assert_rows_equal(self, c.embed(t), [fixture_vector(t, 32)])
        # A named model, a generator of inputs.
        assert_rows_equal(self, c.embed((t for t in texts[:2]), model="fx64"),
                          [fixture_vector(t, 64, version="v2") for t in texts[:2]])
        full = c.embed_full(texts[:1], model="fx64")
        self.assertEqual((full.model, full.dim, full.model_version), ("fx64", 64, "v2"))
        self.assertGreaterEqual(full.generation, 1)

    def test_embed_as_lists_without_numpy(self) -> None:
        c = self.client(numpy=False)
        got = c.embed(["x y", "z"])
        self.assertIsInstance(got, list)
        self.assertIsInstance(got[0], list)
        self.assertEqual(got, [fixture_vector("x y", 32), fixture_vector("z", 32)])

    def test_large_input_lists_are_split_and_reassembled_in_order(self) -> None:
        c = self.client(embed_batch=7)
        texts = [f"sentence number {i}" for i in range(100)]
        assert_rows_equal(self, c.embed(texts), [fixture_vector(t, 32) for t in texts])

    def test_embed_media_bytes_files_and_pixels(self) -> None:
        c = self.client()
        blob = fixture_media("media payload".encode())
        want = fixture_vector("media payload", 32)
        assert_rows_equal(self, c.embed(embedd.Media(blob, FIXTURE_MIME)), [want])
        path = self.daemon.dir / "item.fxtr"
        path.write_bytes(blob)
        assert_rows_equal(self, c.embed([embedd.File(path, FIXTURE_MIME), embedd.File(str(path), FIXTURE_MIME), "media payload"]),
                          [want, want, want])
        # A pathlib.Path: the MIME type is guessed from the name; unknown here, so the plugin refuses it.
        with self.assertRaises(embedd.InvalidArgumentError) as cm:
            c.embed(["ok", path])
        self.assertIn("input 1", cm.exception.message)
        # Raw bytes go as media with no MIME type.
        with self.assertRaises(embedd.InvalidArgumentError) as cm:
            c.embed(blob)
        self.assertIn("media type unknown", cm.exception.message)
        px = embedd.Pixels(rgb8=bytes([255, 0, 0] * 4 + [0, 0, 255] * 4), width=4, height=2)
        a = rows(c.embed(px))
        self.assertEqual(len(a[0]), 32)
        self.assertEqual(a, rows(c.embed([px])))
        self.assertAlmostEqual(sum(x * x for x in a[0]), 1.0, places=5)

    def test_text_files_and_text_media_are_embedded_as_text(self) -> None:
        # Issue 25, item 1: text/* bytes reach the model as text, by every path and charset.
        c = self.client()
        want = fixture_vector("a café by the sea", 32)
        path = self.daemon.dir / "h.txt"
        path.write_text("a café by the sea", encoding="utf-8")
        latin = self.daemon.dir / "latin.dat"
        latin.write_bytes("a café by the sea".encode("latin-1"))
        got = c.embed([path, embedd.File(path, mime_type="text/plain"), embedd.File(path, send_fd=True),
                       embedd.Media("a café by the sea".encode(), "text/plain; charset=utf-8"),
                       embedd.File(latin, mime_type="text/plain; charset=iso-8859-1")])
        assert_rows_equal(self, got, [want] * 5)
        with self.assertRaises(embedd.InvalidArgumentError) as cm:
            c.embed(embedd.Media(b"caf\xe9", "text/plain"))
        self.assertIn("not valid UTF-8 text", cm.exception.message)

    def test_errors_carry_status_and_message(self) -> None:
        c = self.client()
        with self.assertRaises(embedd.NotFoundError) as cm:
            c.embed("x", model="no-such-model")
        e = cm.exception
        self.assertEqual((e.code, e.method), (embedd.StatusCode.NOT_FOUND, "Embed"))
        self.assertIn("no-such-model", e.message)
        self.assertIn("NOT_FOUND", str(e))
        self.assertIsInstance(e, embedd.EmbeddError)
        with self.assertRaises(embedd.InvalidArgumentError) as cm2:
            c.embed(["fine", "   "])
        self.assertIn("input 1", cm2.exception.message)
        self.assertIn("empty", cm2.exception.message)
        with self.assertRaises(embedd.OutOfRangeError) as cm3:
            c.embed("x" * 70000)  # the fixture's max_input_bytes is 65536
        self.assertIn("input 0", cm3.exception.message)
        with self.assertRaises(embedd.InvalidArgumentError):
            c.embed([])
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "input 1: cannot embed a int"):
            c.embed(["a", 5])  # type: ignore[list-item]
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "cannot read"):
            c.embed(Path("/nonexistent/file.png"))
        # The connection survives all of that.
        self.assertEqual(c.health().status, embedd.ServingStatus.SERVING)

    def test_many_threads_share_one_connection(self) -> None:
        c = self.client()
        c.connect()
        conn = c._conn
        failures: List[str] = []

        def worker(k: int) -> None:
            try:
                for i in range(30):
                    texts = [f"thread {k} call {i} item {j}" for j in range(1 + (i % 3))]
                    got = rows(c.embed(texts, model="fx64" if i % 2 else "fx"))
                    want = [fixture_vector(t, 64, version="v2") if i % 2 else fixture_vector(t, 32) for t in texts]
                    if got != want:
                        failures.append(f"thread {k} call {i}: wrong vectors")
            except Exception as e:  # reported below
                failures.append(f"thread {k}: {e!r}")

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(failures, [])
        self.assertIs(c._conn, conn, "the client opened a second connection")

    def test_timeouts_mixed_with_calls_never_strand_a_waiter(self) -> None:
        # Threads whose calls time out give up the reader role while others still wait: every
        # other call must still get its reply (the hand-over between readers is what is tested).
        c = self.client()
        failures: List[str] = []
        expired = [0]
        lock = threading.Lock()

        def worker(k: int) -> None:
            rng = __import__("random").Random(k)
            for i in range(25):
                try:
                    if rng.random() < 0.3:
                        try:
                            c.embed(f"s{k}.{i}", model="slow", timeout=rng.uniform(0.001, 0.02))
                            failures.append(f"{k}.{i}: a 300 ms call finished within its short deadline")
                        except embedd.DeadlineExceededError:
                            with lock:
                                expired[0] += 1
                    else:
                        got = rows(c.embed(f"f{k}.{i}", timeout=10))
                        if got != [fixture_vector(f"f{k}.{i}", 32)]:
                            failures.append(f"{k}.{i}: wrong vector")
                except Exception as e:
                    failures.append(f"{k}.{i}: {e!r}")

        t0 = time.monotonic()
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(failures, [])
        self.assertGreater(expired[0], 10)
        self.assertLess(time.monotonic() - t0, 20)

    def test_replies_arrive_out_of_order(self) -> None:
        c = self.client()
        slow_result: List[object] = []
        started = time.monotonic()
        t = threading.Thread(target=lambda: slow_result.append(c.embed("slow one", model="slow")))
        t.start()
        time.sleep(0.02)
        for i in range(20):
            assert_rows_equal(self, c.embed(f"fast {i}"), [fixture_vector(f"fast {i}", 32)])
        fast_done = time.monotonic() - started
        t.join(10)
        self.assertLess(fast_done, 0.29, "fast calls waited behind the slow one")
        assert_rows_equal(self, slow_result[0], [fixture_vector("slow one", 16)])

    def test_deadline_exceeded_and_the_connection_stays_usable(self) -> None:
        c = self.client()
        t0 = time.monotonic()
        with self.assertRaises(embedd.DeadlineExceededError) as cm:
            c.embed(["a", "b", "c", "d"], model="slow", timeout=0.1)
        took = time.monotonic() - t0
        self.assertLess(took, 0.5)
        self.assertGreaterEqual(took, 0.09)
        self.assertEqual(cm.exception.code, embedd.StatusCode.DEADLINE_EXCEEDED)
        assert_rows_equal(self, c.embed("after"), [fixture_vector("after", 32)])
        # The abandoned call is gone from the daemon well before its 1.2 s of work would end.
        end = time.monotonic() + 1.0
        while time.monotonic() < end and c.status().calls_in_flight > 1:
            time.sleep(0.01)
        self.assertEqual(c.status().calls_in_flight, 1)  # only the Status call itself

    def test_client_enforces_its_deadline_when_the_daemon_is_frozen(self) -> None:
        # The daemon cannot answer DEADLINE_EXCEEDED while stopped: the client's own deadline
        # (the receive timeout of its blocking recv, in slices of one second) must end the call.
        import signal
        c = self.client()
        c.health()
        pid = self.daemon.process.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            for timeout in (0.2, 1.3):  # shorter than one slice; longer than one slice
                t0 = time.monotonic()
                with self.assertRaises(embedd.DeadlineExceededError):
                    c.health(timeout=timeout)
                took = time.monotonic() - t0
                self.assertGreaterEqual(took, timeout - 0.01)
                self.assertLess(took, timeout + 0.4, f"a {timeout} s deadline ended the call after {took:.2f} s")
        finally:
            os.kill(pid, signal.SIGCONT)
        # The late replies to the abandoned calls are dropped; the connection stays usable.
        self.assertEqual(c.health(timeout=5).status, embedd.ServingStatus.SERVING)
        assert_rows_equal(self, c.embed("after a freeze"), [fixture_vector("after a freeze", 32)])

    def test_a_call_on_a_connection_closed_before_sending_is_retried(self) -> None:
        # Another thread may replace an idle connection between our taking it and sending on
        # it: nothing was sent, so the call goes out once more on a fresh connection.
        c = self.client()
        stale = c._connection()
        stale.close()
        fresh = c._connection
        taken = []

        def stale_first() -> object:
            taken.append(1)
            return stale if len(taken) == 1 else fresh()
        c._connection = stale_first  # type: ignore[method-assign]
        self.assertEqual(c.health().status, embedd.ServingStatus.SERVING)
        self.assertEqual(len(taken), 2)

    def test_more_files_than_one_call_can_pass_are_split_across_calls(self) -> None:
        # 64 descriptors may go with one call (the daemon's limits.max_descriptors_per_call):
        # 300 files go as five calls, in order.
        import tempfile
        c = self.client()
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for i in range(300):
                p = os.path.join(d, f"f{i}.txt")
                with open(p, "w") as f:
                    f.write(f"file number {i}")
                paths.append(p)
            got = rows(c.embed([embedd.File(p, mime_type="text/plain", send_fd=True) for p in paths]))
        self.assertEqual(len(got), 300)
        assert_rows_equal(self, [got[0], got[299]], [fixture_vector("file number 0", 32), fixture_vector("file number 299", 32)])

    def test_client_default_timeout(self) -> None:
        c = self.client(timeout=0.05)
        with self.assertRaises(embedd.DeadlineExceededError):
            c.embed("x", model="slow")
        assert_rows_equal(self, c.embed("x", model="slow", timeout=5), [fixture_vector("x", 16)])

    def test_admin_methods(self) -> None:
        c = self.client()
        if os.getuid() != 0:
            with self.assertRaises(embedd.PermissionDeniedError):
                c.load_model("dyn", "fixture")
            self.skipTest("not root: admin calls are refused as expected; the rest of this test needs uid 0")
        (self.daemon.dir / "models" / "dyn").mkdir(exist_ok=True)
        info = c.load_model("dyn", "fixture", options={"dim": 8, "version": "v7"})
        self.assertEqual((info.name, info.dimension, info.version, info.state), ("dyn", 8, "v7", embedd.ModelState.READY))
        assert_rows_equal(self, c.embed("dynamic", model="dyn"), [fixture_vector("dynamic", 8, version="v7")])
        with self.assertRaises(embedd.AlreadyExistsError):
            c.load_model("dyn", "fixture")
        with self.assertRaises(embedd.FailedPreconditionError) as cm:
            c.load_model("nodir", "fixture")
        self.assertIn("nodir", cm.exception.message)
        swapped = c.reload_plugin("fixture", model="dyn")
        self.assertEqual([x.name for x in swapped], ["dyn"])
        self.assertGreater(swapped[0].generation, info.generation)
        p = c.load_plugin(self.daemon.fixture_path)
        self.assertEqual(p.name, "fixture")
        gone = c.unload_model("dyn")
        self.assertEqual(gone.name, "dyn")
        with self.assertRaises(embedd.NotFoundError):
            c.embed("x", model="dyn")
        with self.assertRaises(embedd.NotFoundError):
            c.unload_model("dyn")

    def test_admin_methods_are_denied_to_other_users(self) -> None:
        if os.getuid() != 0:
            self.skipTest("needs uid 0 to run a child as another user (covered by test_admin_methods as non-root)")
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); import embedd\n"
            "c = embedd.Client(sys.argv[2])\n"
            "print(c.embed('x').shape if embedd.HAS_NUMPY else len(c.embed('x')[0]))\n"
            "try:\n    c.load_model('evil', 'fixture')\nexcept embedd.PermissionDeniedError as e:\n    print(e.code_name, e.message)\n"
        )
        r = _support.run_client_as_nobody(self, code, self.daemon.socket_path)
        self.assertIn("PERMISSION_DENIED", r.stdout)
        self.assertIn("admin", r.stdout)

    def test_forked_child_opens_its_own_connection(self) -> None:
        c = self.client()
        assert_rows_equal(self, c.embed("parent"), [fixture_vector("parent", 32)])
        parent_conn = c._conn
        pid = os.fork()
        if pid == 0:  # child: use the inherited client, report through the exit status
            code = 1
            try:
                ok = rows(c.embed("child")) == [fixture_vector("child", 32)] and c._conn is not parent_conn
                code = 0 if ok else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        # The parent's connection is untouched by the child.
        self.assertIs(c._conn, parent_conn)
        assert_rows_equal(self, c.embed("parent again"), [fixture_vector("parent again", 32)])

    def test_unknown_method_and_raw_call(self) -> None:
        c = self.client()
        r = c.call("Health", m.HealthRequest())
        self.assertIsInstance(r, m.HealthResponse)
        with self.assertRaises(ValueError):
            c.call("NoSuchMethod", m.HealthRequest())
        with self.assertRaises(TypeError):
            c.call("Health", m.StatusRequest())
        # A method id the daemon does not serve answers UNIMPLEMENTED (and the connection lives on).
        conn = c._connection()
        with self.assertRaises(embedd.UnimplementedError):
            conn.call(127, "method-127", b"", 5)
        self.assertEqual(c.health().status, embedd.ServingStatus.SERVING)


class ConnectionTests(LiveTestCase):
    MODELS = {"fx": {"dim": "32", "delay_us": "20000"}}
    KW = {"limits": {"idle_timeout": "1s", "max_frame_bytes": "64KiB", "max_calls_per_connection": "4"}}

    def test_idle_connection_is_replaced_transparently(self) -> None:
        c = self.client()
        c.health()
        first = c._conn
        time.sleep(1.3)  # the daemon closes idle connections after 1 s (GOAWAY)
        self.assertEqual(c.health().status, embedd.ServingStatus.SERVING)
        self.assertIsNot(c._conn, first)

    def test_goaway_on_an_idle_connection_is_noticed_before_sending(self) -> None:
        c = self.client()
        c.health()
        first = c._conn
        assert first is not None
        first.hello.idle_timeout_ms = 0  # disable the proactive reconnect: rely on reading the GOAWAY
        time.sleep(1.3)
        self.assertEqual(c.health().status, embedd.ServingStatus.SERVING)
        self.assertTrue(first.closed)
        self.assertIsNot(c._conn, first)

    def test_request_over_max_frame_bytes_is_refused_locally(self) -> None:
        c = self.client()
        self.assertEqual(c.server_hello.max_frame_bytes, 64 * 1024)
        with self.assertRaises(embedd.ResourceExhaustedError) as cm:
            c.embed("y" * 70000)
        self.assertIn("max_frame_bytes", cm.exception.message)
        assert_rows_equal(self, c.embed("small"), [fixture_vector("small", 32)])

    def test_calls_beyond_the_connection_limit_wait_instead_of_failing(self) -> None:
        c = self.client()
        self.assertEqual(c.server_hello.max_calls_in_flight, 4)
        errors: List[BaseException] = []

        def worker(k: int) -> None:
            try:
                assert_rows_equal(self, c.embed(f"t{k}"), [fixture_vector(f"t{k}", 32)])
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])

    def test_connect_errors(self) -> None:
        with self.assertRaises(embedd.UnavailableError) as cm:
            embedd.Client(str(self.daemon.dir / "missing.sock")).health()
        self.assertIn("missing.sock", cm.exception.message)
        self.assertIn("EMBEDD_SOCKET", cm.exception.message)
        old = os.environ.get("EMBEDD_SOCKET")
        os.environ["EMBEDD_SOCKET"] = self.daemon.socket_path
        try:
            with embedd.Client() as c:
                self.assertEqual(c.socket_path, self.daemon.socket_path)
                self.assertEqual(c.health().status, embedd.ServingStatus.SERVING)
        finally:
            if old is None:
                del os.environ["EMBEDD_SOCKET"]
            else:
                os.environ["EMBEDD_SOCKET"] = old

    def test_a_socket_path_that_is_no_socket_is_named_for_what_it_is(self) -> None:
        # connect(2) answers ECONNREFUSED for a directory or a regular file: not "not running".
        regular = self.daemon.dir / "regular-file"
        regular.write_text("x")
        for path, expected in ((self.daemon.dir, "it is a directory"), (regular, "it is a regular file, not a socket")):
            with self.assertRaises(embedd.UnavailableError) as cm:
                embedd.Client(str(path)).health()
            self.assertIn(expected, cm.exception.message)
            self.assertNotIn("not running", cm.exception.message)

    def test_protocol_version_mismatch_is_refused(self) -> None:
        from embedd import _connection
        saved = _connection.PROTOCOL_MAJOR
        _connection.PROTOCOL_MAJOR = 2
        try:
            with self.assertRaises(embedd.FailedPreconditionError) as cm:
                self.client().health()
            self.assertIn(f"2.{_connection.PROTOCOL_MINOR}", cm.exception.message)
        finally:
            _connection.PROTOCOL_MAJOR = saved


class InputLimitTests(LiveTestCase):
    """The daemon announces limits.max_inputs_per_call in HelloReply; the client splits by it."""
    MODELS = {"fx": {"dim": "8"}}
    KW = {"limits": {"max_inputs_per_call": "100"}}

    def test_embed_upsert_and_delete_stay_within_the_announced_limit(self) -> None:
        c = self.client()
        self.assertEqual(c._connection().hello.max_inputs_per_call, 100)
        texts = [f"text {i}" for i in range(250)]
        self.assertEqual(len(rows(c.embed(texts))), 250)
        c.create_collection("lim", model="fx")
        s = c.upsert("lim", texts, texts, batch=400)
        self.assertEqual((s.stored, s.failed), (250, 0))
        self.assertEqual(c.delete("lim", texts), 250)


def _minilm_yaml() -> str:
    """A ``models:`` entry for the real text plugin and all-MiniLM-L6-v2 ("" when either is absent)."""
    binary = find_daemon()
    plugin = binary.resolve().parent / "libembedd-text.so" if binary else None
    models = Path(os.environ.get("EMBEDD_MODELS_DIR", str(Path(__file__).resolve().parents[3] / "models")))
    folder = models / "all-MiniLM-L6-v2"
    if plugin is None or not plugin.is_file() or not (folder / "model.safetensors").is_file():
        return ""
    return f"  - name: minilm\n    plugin: {plugin}\n    model_dir: {folder}\n"


@unittest.skipUnless(_minilm_yaml(), "the text plugin or all-MiniLM-L6-v2 is absent (tools/fetch-models)")
class TruncationTests(LiveTestCase):
    """Honest truncation (issue 25 item 6): the real text plugin reports every cut."""
    MODELS = {"fx": {"dim": "8"}}
    KW = {"extra_yaml": _minilm_yaml()}
    LONG = " ".join(["the quick brown fox jumps over the lazy dog"] * 45)

    def test_embed_reports_cuts_and_refuses_on_request(self) -> None:
        c = self.client()
        r = c.embed_full(["short", self.LONG], model="minilm")
        self.assertEqual(r.truncated, [1])
        self.assertEqual((r.usage[1].used, r.usage[1].truncated), (256, True))
        self.assertGreater(r.usage[1].tokens, 400)
        self.assertEqual(r.total_tokens, r.usage[0].tokens + r.usage[1].tokens)
        with self.assertRaisesRegex(embedd.InvalidArgumentError, r"input 1: input has \d+ tokens"):
            c.embed(["short", self.LONG], model="minilm", truncate=False)
        # Split into several calls, the counts still line up with the inputs.
        c.embed_batch, saved = 2, c.embed_batch
        try:
            split = c.embed_full(["a", "b", "c", self.LONG, "d"], model="minilm")
        finally:
            c.embed_batch = saved
        self.assertEqual(split.truncated, [3])
        self.assertEqual(len(split.usage), 5)

    def test_upsert_counts_cuts_and_fails_items_alone(self) -> None:
        c = self.client()
        c.create_collection("trunc", model="minilm")
        s = c.upsert("trunc", ["a", "b"], ["short", self.LONG])
        self.assertEqual((s.stored, s.truncated), (2, 1))
        self.assertTrue(s.results[1].usage.truncated)
        strict = c.upsert("trunc", ["c", "d"], ["short", self.LONG], truncate=False, check=False)
        self.assertEqual((strict.stored, strict.failed), (1, 1))
        self.assertEqual(c.search("trunc", self.LONG, k=1)[0].key, "b")
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "tokens"):
            c.search("trunc", self.LONG, k=1, truncate=False)

    def test_a_plugin_that_counts_nothing_cannot_refuse(self) -> None:
        c = self.client()
        r = c.embed_full("hello", model="fx")
        self.assertEqual((r.usage, r.total_tokens), ([], 0))
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "does not count tokens"):
            c.embed("hello", model="fx", truncate=False)


def _image_yaml() -> str:
    """A ``models:`` entry for the real image plugin and the tiny seeded ResNet ("" when absent)."""
    binary = find_daemon()
    plugin = binary.resolve().parent / "libembedd-image.so" if binary else None
    folder = Path(__file__).resolve().parents[3] / "Tests" / "Fixtures" / "image" / "resnet-tiny-bottleneck"
    if plugin is None or not plugin.is_file():
        return ""
    return f"  - name: resnet\n    plugin: {plugin}\n    model_dir: {folder}\n"


MEDIA = Path(__file__).resolve().parents[3] / "Tests" / "Fixtures" / "media"


@unittest.skipUnless(_image_yaml(), "the image plugin is not built")
class ImageTests(LiveTestCase):
    """Pictures from Python (issue 19): paths, bytes, passed files and raw pixels."""
    MODELS = {"fx": {"dim": "8"}}
    KW = {"extra_yaml": _image_yaml()}

    def test_paths_files_bytes_and_pixels_give_one_vector(self) -> None:
        c = self.client()
        png = MEDIA / "rgb.png"
        data = png.read_bytes()
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        rgb = (MEDIA / "rgb.png.rgb").read_bytes()
        v = rows(c.embed([png, embedd.File(str(png), send_fd=True), embedd.Media(data, "image/png"),
                          embedd.Pixels(rgb, width, height)], model="resnet"))
        self.assertEqual(len(v), 4)
        self.assertEqual(len(v[0]), 32)
        for other in v[1:]:
            self.assertEqual(other, v[0])

    def test_a_photo_collection_finds_its_pictures(self) -> None:
        c = self.client()
        c.create_collection("photos", model="resnet")
        names = ["q90-420.jpg", "rgb.png", "lossy.webp", "cmyk.jpg", "exif6.jpg", "palette.png"]
        s = c.upsert("photos", names, [MEDIA / n for n in names])
        self.assertEqual(s.stored, len(names))
        for n in names:
            self.assertEqual(c.search("photos", MEDIA / n, k=3)[0].key, n)
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "resnet"):
            c.search("photos", "a red car")
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "truncated JPEG"):
            c.embed(embedd.Media((MEDIA / "q90-420.jpg").read_bytes()[:500], "image/jpeg"), model="resnet")


def _clip_yaml() -> str:
    """A ``models:`` entry for the real clip plugin and the tiny seeded CLIP ("" when absent)."""
    binary = find_daemon()
    plugin = binary.resolve().parent / "libembedd-clip.so" if binary else None
    folder = Path(__file__).resolve().parents[3] / "Tests" / "Fixtures" / "clip" / "clip-tiny-quickgelu"
    if plugin is None or not plugin.is_file():
        return ""
    return f"  - name: clip\n    plugin: {plugin}\n    model_dir: {folder}\n"


@unittest.skipUnless(_clip_yaml(), "the clip plugin is not built")
class CLIPTests(LiveTestCase):
    """Texts and pictures in one space from Python (issue 20): mixed collections, classify."""
    MODELS = {"fx": {"dim": "8"}}
    KW = {"extra_yaml": _clip_yaml()}

    def test_texts_and_pictures_share_a_collection(self) -> None:
        c = self.client()
        c.create_collection("mixed", model="clip")
        names = ["q75-444.jpg", "rgb.png", "lossy.webp", "exif6.jpg"]
        s = c.upsert("mixed", names + ["t1", "t2"], [MEDIA / n for n in names] + ["a photo of a cat", "a diagram of a coffee cup"])
        self.assertEqual(s.stored, 6)
        hits = c.search("mixed", "a photo of a cat", k=6)
        self.assertEqual(hits[0].key, "t1")
        self.assertTrue({h.key for h in hits} >= set(names))
        self.assertEqual(c.search("mixed", MEDIA / "exif6.jpg", k=1)[0].key, "exif6.jpg")
        v = rows(c.embed(["a photo of a cat", MEDIA / "rgb.png"], model="clip"))
        self.assertEqual(len(v[0]), 16)
        for row in v:
            self.assertAlmostEqual(sum(x * x for x in row), 1.0, places=5)
        r = c.embed_full(" ".join(["long"] * 200), model="clip")
        self.assertEqual(r.truncated, [0])

    def test_classify_ranks_labels_by_softmax_of_scaled_cosines(self) -> None:
        c = self.client()
        labels = ["a photo of a cat", "a photo of a dog", "a diagram of a coffee cup"]
        ranked = c.classify(MEDIA / "q75-444.jpg", labels, model="clip", template="{}")
        self.assertEqual(sorted(l for l, _ in ranked), sorted(labels))
        self.assertAlmostEqual(sum(p for _, p in ranked), 1.0, places=6)
        self.assertEqual([p for _, p in ranked], sorted((p for _, p in ranked), reverse=True))
        import math
        t = rows(c.embed(labels, model="clip"))
        i = rows(c.embed(MEDIA / "q75-444.jpg", model="clip"))[0]
        logits = [100 * sum(a * b for a, b in zip(i, row)) for row in t]
        e = [math.exp(x - max(logits)) for x in logits]
        want = {l: x / sum(e) for l, x in zip(labels, e)}
        for label, p in ranked:
            self.assertAlmostEqual(p, want[label], places=4)
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "at least two"):
            c.classify(MEDIA / "rgb.png", ["cat"], model="clip")


def _audio_yaml() -> str:
    """A ``models:`` entry for the real audio plugin and the tiny seeded Whisper ("" when absent)."""
    binary = find_daemon()
    plugin = binary.resolve().parent / "libembedd-audio.so" if binary else None
    folder = Path(__file__).resolve().parents[3] / "Tests" / "Fixtures" / "audio" / "whisper-tiny"
    if plugin is None or not plugin.is_file():
        return ""
    return f"  - name: whisper\n    plugin: {plugin}\n    model_dir: {folder}\n"


SPEECH = Path("/usr/share/pocketsphinx/test/data/librivox")


@unittest.skipUnless(_audio_yaml() and shutil.which("ffmpeg") and SPEECH.is_dir(),
                     "needs the audio plugin, ffmpeg and pocketsphinx-testdata")
class AudioTests(LiveTestCase):
    """Sound from Python (issue 21): a recording's vector and its 30-s segments."""
    MODELS = {"fx": {"dim": "8"}}
    KW = {"extra_yaml": _audio_yaml()}

    def _recording(self, name: str, copies: int) -> Path:
        files = sorted(SPEECH.glob("*.wav")) * copies
        out = self.daemon.dir / name
        args = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"]
        for f in files:
            args += ["-i", str(f)]
        args += ["-filter_complex", f"concat=n={len(files)}:v=0:a=1", str(out)]
        subprocess.run(args, check=True)
        return out

    def test_segments_are_embedded_stored_and_found(self) -> None:
        c = self.client()
        talk = self._recording("talk.flac", 3)
        r = c.embed_full(embedd.File(talk, "audio/flac"), model="whisper", segments=True)
        windows = r.segments[0]
        self.assertGreaterEqual(len(windows), 2)
        self.assertEqual((windows[0].start, windows[0].end), (0.0, 30.0))
        mean = [sum(w.vector[j] for w in windows) for j in range(r.dim)]
        norm = sum(x * x for x in mean) ** 0.5
        for a, b in zip(rows(r.vectors)[0], mean):
            self.assertAlmostEqual(a, b / norm, places=5)
        c.create_collection("talks", model="whisper")
        s = c.upsert("talks", "talk", embedd.File(talk, "audio/flac"), metadata={"speaker": "librivox"}, segments=True)
        self.assertEqual((s.stored, s.results[0].segments), (1, len(windows)))
        self.assertEqual(c.count("talks"), 1 + len(windows))
        seg = c.get("talks", "talk#t=30,60")
        self.assertEqual((seg.metadata["start"], seg.metadata["end"], seg.metadata["segment_of"], seg.metadata["speaker"]),
                         (30, 60, "talk", "librivox"))
        hits = c.search("talks", vector=list(windows[1].vector), k=1)
        self.assertEqual(hits[0].key, "talk#t=30,60")
        self.assertEqual(c.delete("talks", "talk"), 1)
        self.assertEqual(c.count("talks"), 0)
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "returns no segments"):
            c.embed_full("hello", model="fx", segments=True)


class ShutdownTests(unittest.TestCase):
    def test_sigterm_drains_then_calls_fail_with_unavailable(self) -> None:
        d = Daemon({"slow": {"dim": "16", "delay_us": "400000"}}).start()
        self.addCleanup(d.cleanup)
        c = d.client()
        self.addCleanup(c.close)
        result: List[object] = []
        t = threading.Thread(target=lambda: result.append(c.embed("in flight")))
        t.start()
        time.sleep(0.1)
        d.process.send_signal(15)  # type: ignore[union-attr]
        t.join(10)
        # The call in flight finished during the drain.
        assert_rows_equal(self, result[0], [fixture_vector("in flight", 16)])
        self.assertEqual(d.process.wait(10), 0)  # type: ignore[union-attr]
        with self.assertRaises(embedd.UnavailableError):
            c.embed("after the daemon stopped")


class OverloadTests(unittest.TestCase):
    def test_full_queue_answers_resource_exhausted_at_once(self) -> None:
        d = Daemon({"fx": {"dim": "16", "delay_us": "20000"}},
                   batching={"queue_depth": "4", "max_delay": "1ms", "max_batch": "4"}).start()
        self.addCleanup(d.cleanup)
        clients = [d.client() for _ in range(4)]
        for c in clients:
            self.addCleanup(c.close)
        shed: List[float] = []
        ok: List[float] = []
        other: List[BaseException] = []
        lock = threading.Lock()

        def worker(c: embedd.Client, k: int) -> None:
            for i in range(8):
                t0 = time.monotonic()
                try:
                    assert_rows_equal(self, c.embed(f"{k}/{i}"), [fixture_vector(f"{k}/{i}", 16)])
                    with lock:
                        ok.append(time.monotonic() - t0)
                except embedd.ResourceExhaustedError:
                    with lock:
                        shed.append(time.monotonic() - t0)
                except BaseException as e:
                    with lock:
                        other.append(e)

        threads = [threading.Thread(target=worker, args=(clients[k % 4], k)) for k in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(other, [])
        self.assertGreater(len(shed), 0, "32 concurrent callers on a queue of 4 were never refused")
        self.assertGreater(len(ok), 0)
        shed.sort()
        self.assertLess(shed[len(shed) // 2], 0.010, f"RESOURCE_EXHAUSTED was slow: median {shed[len(shed) // 2]:.4f} s")


if __name__ == "__main__":
    unittest.main()
