"""Sentence-transformers prompts (issue 26) through the real daemon: the client's ``prompt=``,
``add_prompt=`` and ``query_prompt=`` with the C fixture plugin (exact vectors: a prompt is its
text prepended, so ``prompt="query"`` on "x" gives the fixture's vector of "query: x"), and
the real text plugin on all-MiniLM-L6-v2 where its weights are present (vector and token count
equal to a no-prompt embed of the concatenated text).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import unittest
from pathlib import Path

import _support
from _support import Daemon, assert_rows_equal, find_daemon, fixture_media, fixture_vector, rows

import embedd

PROMPTS = {"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": "query"}


def setUpModule() -> None:
    reason = _support.missing_daemon_reason()
    if reason:
        raise unittest.SkipTest(f"live daemon tests skipped: {reason}")


def write_prompts(folder: Path, config: object) -> None:
    (folder / "config_sentence_transformers.json").write_text(json.dumps(config) if not isinstance(config, str) else config)


class FixturePromptTests(unittest.TestCase):
    """Model ``fxp`` has prompts query/passage with default query, ``plain`` has none."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon({"fxp": {"dim": "32"}, "plain": {"dim": "32"}})
        write_prompts(cls.daemon.dir / "models" / "fxp", PROMPTS)
        cls.daemon.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.cleanup()

    def client(self) -> embedd.Client:
        c = self.daemon.client()
        self.addCleanup(c.close)
        return c

    def reload(self, d: Daemon, c: embedd.Client) -> None:
        """SIGHUP, then wait until the reload has been counted."""
        before = c.status().reloads
        assert d.process is not None
        d.process.send_signal(signal.SIGHUP)
        end = time.monotonic() + 30
        while c.status().reloads == before:
            self.assertLess(time.monotonic(), end, "the reload did not finish")
            time.sleep(0.02)

    def test_models_list_their_prompts(self) -> None:
        models = {x.name: x for x in self.client().models()}
        self.assertEqual([(p.name, p.text) for p in models["fxp"].prompts], [("query", "query: "), ("passage", "passage: ")])
        self.assertEqual(models["fxp"].default_prompt, "query")
        self.assertEqual((models["plain"].prompts, models["plain"].default_prompt), ([], ""))

    def test_embed_prepends_the_prompt_to_texts(self) -> None:
        c = self.client()
        texts = ["Hello world", "a second text"]
        assert_rows_equal(self, c.embed(texts, "fxp", prompt="passage"), [fixture_vector("passage: " + t, 32) for t in texts])
        assert_rows_equal(self, c.embed(texts, "fxp", prompt="query"), [fixture_vector("query: " + t, 32) for t in texts])
        # No prompt named: the model's default_prompt_name applies, as in sentence-transformers.
        assert_rows_equal(self, c.embed(texts, "fxp"), [fixture_vector("query: " + t, 32) for t in texts])
        # "none": no prompt at all.
        assert_rows_equal(self, c.embed(texts, "fxp", prompt="none"), [fixture_vector(t, 32) for t in texts])
        # A model without prompts embeds texts as they are, and "none" is fine there too.
        assert_rows_equal(self, c.embed(texts, "plain"), [fixture_vector(t, 32) for t in texts])
        assert_rows_equal(self, c.embed(texts, "plain", prompt="none"), [fixture_vector(t, 32) for t in texts])

    def test_text_files_get_the_prompt_and_media_ignore_it(self) -> None:
        c = self.client()
        path = self.daemon.dir / "note.txt"
        path.write_text("from a file")
        assert_rows_equal(self, c.embed(path, "fxp", prompt="passage"), [fixture_vector("passage: from a file", 32)])
        # A passed descriptor (read by the daemon) and an upsert of one get it too.
        passed = embedd.File(path, send_fd=True)
        assert_rows_equal(self, c.embed(passed, "fxp", prompt="passage"), [fixture_vector("passage: from a file", 32)])
        c.create_collection("files", model="fxp", add_prompt="passage")
        c.upsert("files", "f", passed)
        self.assertEqual(rows([c.get("files", "f").vector]), [fixture_vector("passage: from a file", 32)])
        assert_rows_equal(self, c.embed(embedd.Media(data=b"plain bytes", mime_type="text/plain"), "fxp", prompt="passage"),
                          [fixture_vector("passage: plain bytes", 32)])
        media = embedd.Media(data=fixture_media(b"payload"), mime_type="application/x-embedd-fixture")
        self.assertEqual(rows(c.embed(media, "fxp", prompt="passage")), rows(c.embed(media, "fxp", prompt="none")))

    def test_unknown_prompts_are_refused_by_name(self) -> None:
        c = self.client()
        with self.assertRaisesRegex(embedd.InvalidArgumentError, r"no prompt named 'qurey' \(its prompts: query, passage"):
            c.embed("x", "fxp", prompt="qurey")
        with self.assertRaisesRegex(embedd.InvalidArgumentError, r"model 'plain' has no prompts"):
            c.embed("x", "plain", prompt="query")
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "add_prompt: model 'fxp' has no prompt named 'doc'"):
            c.create_collection("badprompt", model="fxp", add_prompt="doc")
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "raw collection"):
            c.create_collection("rawprompt", dim=4, query_prompt="query")

    def test_collections_apply_their_add_and_query_prompts(self) -> None:
        c = self.client()
        info = c.create_collection("e5", model="fxp", add_prompt="passage", query_prompt="query")
        self.assertEqual((info.add_prompt, info.query_prompt), ("passage", "query"))
        self.assertEqual(c.describe_collection("e5").add_prompt, "passage")
        c.upsert("e5", ["a", "b"], ["the cat sat on the mat", "stock markets fell"])
        self.assertEqual(rows([c.get("e5", "a").vector]), [fixture_vector("passage: the cat sat on the mat", 32)])
        # A call's own prompt wins over the collection's.
        c.upsert("e5", "c", "the cat sat on the mat", prompt="none")
        self.assertEqual(rows([c.get("e5", "c").vector]), [fixture_vector("the cat sat on the mat", 32)])
        # Search embeds "query: " + text: the same hits and scores as searching by that vector.
        by_text = c.search("e5", "cat on a mat", k=3)
        by_vector = c.search("e5", vector=fixture_vector("query: cat on a mat", 32), k=3)
        self.assertEqual([(h.key, h.score) for h in by_text], [(h.key, h.score) for h in by_vector])
        passage = c.search("e5", "cat on a mat", k=3, prompt="passage")
        self.assertEqual([(h.key, h.score) for h in passage],
                         [(h.key, h.score) for h in c.search("e5", vector=fixture_vector("passage: cat on a mat", 32), k=3)])
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "no prompt named 'nope'"):
            c.search("e5", "x", prompt="nope")
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "no prompt named 'nope'"):
            c.upsert("e5", "d", "x", prompt="nope")
        # Same binding, same prompts: exist_ok; other prompts: the collection exists.
        c.create_collection("e5", model="fxp", add_prompt="passage", query_prompt="query", exist_ok=True)
        with self.assertRaises(embedd.AlreadyExistsError):
            c.create_collection("e5", model="fxp", exist_ok=True)

    def test_a_collection_prompt_survives_a_restart_and_a_swap_that_removes_it_is_named(self) -> None:
        # Its own daemon: this test rewrites the model's prompts and restarts.
        d = Daemon({"fxp": {"dim": "16"}})
        self.addCleanup(d.cleanup)
        folder = d.dir / "models" / "fxp"
        write_prompts(folder, PROMPTS)
        d.start()
        c = d.client()
        c.create_collection("docs", model="fxp", add_prompt="passage")
        c.close()
        d.stop()
        d.start()
        c = d.client()
        self.addCleanup(c.close)
        self.assertEqual((c.describe_collection("docs").add_prompt, c.describe_collection("docs").query_prompt), ("passage", ""))
        c.upsert("docs", "a", "hello")
        self.assertEqual(rows([c.get("docs", "a").vector]), [fixture_vector("passage: hello", 16)])
        # A hot swap re-reads the folder's prompts.
        write_prompts(folder, {"prompts": {"query": "Represent this sentence: "}})
        self.reload(d, c)
        fxp = [x for x in c.models() if x.name == "fxp"][0]
        self.assertEqual(([(p.name, p.text) for p in fxp.prompts], fxp.default_prompt), ([("query", "Represent this sentence: ")], ""))
        assert_rows_equal(self, c.embed("hi", "fxp", prompt="query"), [fixture_vector("Represent this sentence: hi", 16)])
        assert_rows_equal(self, c.embed("hi", "fxp"), [fixture_vector("hi", 16)])  # no default any more
        with self.assertRaisesRegex(embedd.FailedPreconditionError, "collection 'docs' has add_prompt 'passage'"):
            c.upsert("docs", "b", "hello")
        c.upsert("docs", "b", "hello", prompt="query")
        self.assertEqual(rows([c.get("docs", "b").vector]), [fixture_vector("Represent this sentence: hello", 16)])
        # A file sentence-transformers would refuse fails the swap; the old prompts serve on.
        write_prompts(folder, {"prompts": {"query": "q: "}, "default_prompt_name": "passage"})
        self.reload(d, c)
        self.assertIn("default_prompt_name \"passage\" names no prompt", c.status().last_reload_error)
        assert_rows_equal(self, c.embed("hi", "fxp", prompt="query"), [fixture_vector("Represent this sentence: hi", 16)])

    def test_a_bad_prompts_file_fails_the_load_by_name(self) -> None:
        d = Daemon({"fx": {"dim": "8"}, "broken": {"dim": "8"}})
        self.addCleanup(d.cleanup)
        write_prompts(d.dir / "models" / "broken", '{"prompts": ["query: "]}')
        # Started here, not by d.start(), which waits for every model to be READY: the other
        # model serves, the broken one says why it failed.
        log = open(d.log_path, "ab")
        d.process = subprocess.Popen([str(d.binary), "--config", str(d.config_path)], stdout=log, stderr=log)
        log.close()
        end = time.monotonic() + 20
        while True:
            try:
                with embedd.Client(d.socket_path, connect_timeout=2) as c:
                    broken = [x for x in c.models() if x.name == "broken"][0]
                    if broken.state == embedd.ModelState.FAILED:
                        break
            except embedd.EmbeddError:
                pass
            self.assertLess(time.monotonic(), end, d.log())
            time.sleep(0.05)
        self.assertIn('"prompts" is an array, not an object', broken.error)


def _minilm_folder() -> Path:
    models = Path(os.environ.get("EMBEDD_MODELS_DIR", str(Path(__file__).resolve().parents[3] / "models")))
    return models / "all-MiniLM-L6-v2"


def _text_plugin() -> str:
    binary = find_daemon()
    plugin = binary.resolve().parent / "libembedd-text.so" if binary else None
    return str(plugin) if plugin is not None and plugin.is_file() else ""


@unittest.skipUnless(_text_plugin() and (_minilm_folder() / "model.safetensors").is_file(),
                     "the text plugin or all-MiniLM-L6-v2 is absent (tools/fetch-models)")
class RealTextModelPromptTests(unittest.TestCase):
    """The real text plugin: a prompt is exactly its text prepended, tokens included."""

    def test_prompt_vector_and_tokens_equal_the_concatenated_text(self) -> None:
        d = Daemon({"fx": {"dim": "8"}})
        self.addCleanup(d.cleanup)
        folder = d.dir / "minilm-prompts"
        folder.mkdir()
        src = _minilm_folder()
        for f in src.iterdir():
            if f.name != "config_sentence_transformers.json":
                (folder / f.name).symlink_to(f)
        write_prompts(folder, {"prompts": {"query": "Represent this sentence for searching relevant passages: "}})
        d.config_path.write_text(d.config_path.read_text()
                                 + f"  - name: minilm\n    plugin: {_text_plugin()}\n    model_dir: {folder}\n")
        d.start(timeout=60)
        c = d.client()
        self.addCleanup(c.close)
        text = "how much protein should a female eat"
        prompted = c.embed_full(text, "minilm", prompt="query")
        joined = c.embed_full("Represent this sentence for searching relevant passages: " + text, "minilm")
        plain = c.embed_full(text, "minilm")
        self.assertEqual(rows(prompted.vectors), rows(joined.vectors))
        self.assertEqual(prompted.usage[0].tokens, joined.usage[0].tokens)
        self.assertGreater(prompted.usage[0].tokens, plain.usage[0].tokens)
        self.assertNotEqual(rows(prompted.vectors), rows(plain.vectors))


if __name__ == "__main__":
    unittest.main()
