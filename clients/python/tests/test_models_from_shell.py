"""Models loaded from the shell (issue 26, item 2), through the real daemon and embedctl:

- LoadModel keeps the model in DATA_DIR/models.d/NAME.yaml; it loads again after a restart,
  UnloadModel removes it, and the next restart does not bring it back; ``temporary`` keeps nothing;
- names of embedd.yaml are the file's (LoadModel refuses them; unloading one lasts until restart);
- broken or hand-edited files are logged and never stop the daemon;
- collections bound under an earlier release's space id (``FAMILY/FOLDER@fnv64:HASH``) are rebound
  when their model has the same fingerprint, and refused as before when it has not.

The C fixture plugin stands in for a real one (its ``space`` option sets the space id). Admin calls
need uid 0 (the admin group is not configured): the tests skip otherwise.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import unittest
from pathlib import Path
from typing import List

import _support
from _support import Daemon, fixture_vector

import embedd

SPACE = "fixture@fnv64:0123456789abcdef"


def embedctl() -> Path:
    d = _support.find_daemon()
    assert d is not None
    return d.resolve().parent / "embedctl"


@unittest.skipIf(_support.missing_daemon_reason() is not None, _support.missing_daemon_reason() or "")
@unittest.skipIf(os.getuid() != 0, "admin calls need uid 0 (no admin_group in the test configuration)")
class ModelsFromShellTests(unittest.TestCase):
    def setUp(self) -> None:
        self.daemon = Daemon({"fx": {"dim": "16"}})
        self.addCleanup(self.daemon.cleanup)
        self.models_d = self.daemon.dir / "data" / "models.d"
        for name in ("extra", "other"):
            (self.daemon.dir / "models" / name).mkdir()
        self.daemon.start()

    def restart(self) -> None:
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log())
        self.daemon.start()

    def ctl(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run([str(embedctl()), "--socket", self.daemon.socket_path, *args], capture_output=True, text=True, timeout=60)
        if ok:
            self.assertEqual(r.returncode, 0, f"embedctl {' '.join(args)}: {r.stderr}")
        return r

    def names(self) -> List[str]:
        with self.daemon.client() as c:
            return [m.name for m in c.models()]

    def test_load_is_kept_across_restarts_until_unloaded(self) -> None:
        with self.daemon.client() as c:
            info = c.load_model("extra", "fixture", "extra", options={"dim": 8, "version": "v7"})
            self.assertEqual((info.state, info.dimension, info.source), (embedd.ModelState.READY, 8, "models.d"))
            self.assertEqual(info.source_file, str(self.models_d / "extra.yaml"))
        text = (self.models_d / "extra.yaml").read_text()
        self.assertIn('name: "extra"', text)
        self.assertIn('"version": "v7"', text)
        self.assertEqual(oct((self.models_d / "extra.yaml").stat().st_mode & 0o777), "0o640")
        self.assertEqual([p.name for p in self.models_d.iterdir()], ["extra.yaml"], "no temporary file is left")

        self.restart()
        with self.daemon.client() as c:
            m = {x.name: x for x in c.models()}
            self.assertEqual(list(m), ["fx", "extra"], "embedd.yaml's models first, then models.d's")
            self.assertEqual((m["extra"].state, m["extra"].source, m["fx"].source), (embedd.ModelState.READY, "models.d", "config"))
            self.assertEqual(m["fx"].source_file, str(self.daemon.config_path))
            self.assertTrue(m["fx"].is_default)
            _support.assert_rows_equal(self, c.embed("kept", model="extra"), [fixture_vector("kept", 8, version="v7")])
            gone = c.unload_model("extra")
            self.assertEqual(gone.source, "models.d")
        self.assertFalse((self.models_d / "extra.yaml").exists())

        self.restart()
        self.assertEqual(self.names(), ["fx"])

    def test_temporary_load_is_not_kept(self) -> None:
        with self.daemon.client() as c:
            info = c.load_model("other", "fixture", "other", temporary=True)
            self.assertEqual(info.source, "call")
            self.assertEqual(info.source_file, "")
        self.assertFalse(self.models_d.exists() and any(self.models_d.iterdir()))
        self.restart()
        self.assertEqual(self.names(), ["fx"])

    def test_a_failed_load_keeps_nothing(self) -> None:
        with self.daemon.client() as c:
            with self.assertRaises(embedd.FailedPreconditionError):
                c.load_model("nodir", "fixture")
            with self.assertRaises(embedd.EmbeddError):
                c.load_model("extra", "fixture", "extra", options={"fail_load": 1})
            with self.assertRaises(embedd.InvalidArgumentError) as cm:
                c.load_model("a/b", "fixture", "extra")
            self.assertIn("temporary", cm.exception.message)
            self.assertEqual([m.name for m in c.models()], ["fx"])
        self.assertFalse(self.models_d.exists() and any(self.models_d.iterdir()))

    def test_names_of_the_configuration_file_stay_its_own(self) -> None:
        with self.daemon.client() as c:
            with self.assertRaises(embedd.AlreadyExistsError):
                c.load_model("fx", "fixture", "extra")
            gone = c.unload_model("fx")
            self.assertEqual((gone.source, gone.source_file), ("config", str(self.daemon.config_path)))
            self.assertEqual([m.name for m in c.models()], [])
        # Unloading lasts until the next start: embedd.yaml says what runs.
        self.restart()
        with self.daemon.client() as c:
            c.unload_model("fx")
            # Loaded again by a call, it is still the configuration's name: nothing is kept.
            info = c.load_model("fx", "fixture", "extra", options={"dim": 4})
            self.assertEqual((info.source, info.source_file, info.dimension), ("call", "", 4))
        self.assertFalse(self.models_d.exists())
        # A reload puts the configuration's entry back in its place.
        os.kill(self.daemon.process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "reload done" not in self.daemon.log():
            time.sleep(0.05)
        with self.daemon.client() as c:
            m = c.models()[0]
            self.assertEqual((m.source, m.dimension), ("config", 16))
        self.assertIn("whose entry replaces the one loaded by an admin call", self.daemon.log())

    def test_broken_and_hand_edited_files_never_stop_the_daemon(self) -> None:
        self.assertEqual(self.daemon.stop(), 0)
        self.models_d.mkdir()
        (self.models_d / "extra.yaml").write_text("# by hand\nname: extra\nplugin: fixture\noptions: {dim: 4}\n")
        (self.models_d / "bad.yaml").write_text("name: bad\nplugin: [fixture\n")
        (self.models_d / "misnamed.yaml").write_text("name: other\nplugin: fixture\nmodel_dir: other\n")
        (self.models_d / "unknown.yaml").write_text("name: unknown\nplugin: fixture\ndefault: true\n")
        (self.models_d / "empty.yaml").write_text("")
        (self.models_d / "fx.yaml").write_text('name: fx\nplugin: fixture\nmodel_dir: other\noptions:\n  dim: "4"\n')
        (self.models_d / "notes.txt").write_text("not a model file")
        (self.models_d / ".extra.yaml.tmp").write_text("name: half")
        self.daemon.start(all_ready=False)
        log = self.daemon.log()
        with self.daemon.client() as c:
            m = {x.name: x for x in c.models()}
        self.assertEqual(sorted(m), ["bad", "empty", "extra", "fx", "misnamed", "unknown"])
        self.assertEqual((m["extra"].state, m["extra"].dimension), (embedd.ModelState.READY, 4), "hand-written files load")
        self.assertEqual((m["fx"].source, m["fx"].dimension), ("config", 16), "embedd.yaml's entry wins")
        self.assertIn("fx.yaml: model 'fx' is also configured in", log)
        for name, why in [("bad", r"bad\.yaml:\d+:\d+: "), ("misnamed", "holds model \"other\" but is named misnamed.yaml"),
                          ("unknown", r"unknown\.yaml:3:1: unknown setting \"default\""), ("empty", r"empty\.yaml:1:1: the model file has no name")]:
            self.assertEqual(m[name].state, embedd.ModelState.FAILED, name)
            self.assertRegex(m[name].error, why)
            self.assertRegex(log, why)
        self.assertIn("embedctl models unload bad", log)
        # Unloading a broken one removes its file; the shadowed fx.yaml goes with fx's unload.
        with self.daemon.client() as c:
            c.unload_model("bad")
            c.unload_model("fx")
        self.assertFalse((self.models_d / "bad.yaml").exists())
        self.assertFalse((self.models_d / "fx.yaml").exists())
        # Loading over a failed entry replaces its file.
        with self.daemon.client() as c:
            info = c.load_model("unknown", "fixture", "other")
            self.assertEqual(info.state, embedd.ModelState.READY)
        self.assertNotIn("default", (self.models_d / "unknown.yaml").read_text())

    def test_embedctl_models_commands(self) -> None:
        r = self.ctl("models", "load", "extra", "--plugin", "fixture", "--dir", "extra", "--option", "dim=8", "-o", "version=v2")
        self.assertIn("loaded model extra (plugin fixture, dim 8", r.stdout)
        self.assertIn(f"kept in {self.models_d / 'extra.yaml'}", r.stdout)
        table = self.ctl("models").stdout
        self.assertRegex(table, r"(?m)^NAME +STATE +PLUGIN +SOURCE ")
        self.assertRegex(table, r"(?m)^extra +ready +fixture +models\.d ")
        self.assertRegex(table, r"(?m)^fx \* +ready +fixture +config ")
        self.assertIn('"source": "models.d"', self.ctl("models", "--format", "json").stdout)
        self.assertEqual(self.ctl("models", "list").stdout, table)
        r = self.ctl("models", "load", "other", "--plugin", "fixture", "--dir", str(self.daemon.dir / "models" / "other"), "--temporary")
        self.assertIn("not kept", r.stdout)
        r = self.ctl("models", "unload", "extra")
        self.assertIn(f"removed {self.models_d / 'extra.yaml'}", r.stdout)
        r = self.ctl("models", "unload", "fx")
        self.assertIn("loads again at the next start", r.stdout)
        r = self.ctl("models", "load", "fx", "--plugin", "fixture", "--dir", "other")
        self.assertIn("not kept: the configuration file names fx", r.stdout)
        r = self.ctl("models", "load", "x", "--dir", "extra", ok=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs --plugin", r.stderr)
        r = self.ctl("models", "unload", "nothing", ok=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("NOT_FOUND", r.stderr)
        helptext = self.ctl("models", "--help").stdout
        for want in ("list", "(the default)", "load", "unload"):
            self.assertIn(want, helptext)
        top = self.ctl("--help").stdout
        self.assertIn("models", top)

    def test_bash_completion_offers_the_model_commands(self) -> None:
        script = self.ctl("completion", "bash").stdout
        self.assertIn("subs='list load unload'", script)
        self.assertRegex(script, r"'models load'\) subs='' opts='[^']*--plugin[^']*--dir[^']*--option[^']*--temporary")
        # `embedctl models --format` completes like `models list --format`.
        self.assertRegex(script, r"'models'\) subs='list load unload' opts='[^']*--format")
        self.assertIn("dynamic:plugins", script)
        self.assertEqual(self.ctl("__complete", "plugins").stdout, "fixture\n")


@unittest.skipIf(_support.missing_daemon_reason() is not None, _support.missing_daemon_reason() or "")
class RebindingTests(unittest.TestCase):
    """A binding file written in the format and with the space id of earlier releases."""

    def setUp(self) -> None:
        self.daemon = Daemon({"fx": {"dim": "16", "space": SPACE}})
        self.addCleanup(self.daemon.cleanup)
        self.daemon.start()
        with self.daemon.client() as c:
            c.create_collection("notes", model="fx")
            c.upsert("notes", ["a", "b"], texts=["first note", "second note"])
        self.binding = self.daemon.dir / "data" / "collections" / "notes" / "embedd.binding"
        self.assertIn(f"space {SPACE}\n", self.binding.read_text())
        self.assertEqual(self.daemon.stop(), 0)

    def old_binding(self, space: str) -> None:
        # Exactly what CollectionBinding.encoded() wrote before space ids stopped naming folders.
        self.binding.write_text(
            "embedd-binding 1\nmodel fx\n"
            f"space {space}\n"
            "owner 0\ncreated_ms 1764000000000\nrestrict_read 0\nreader_uids \nreader_gids \nwriter_uids \nwriter_gids \n")

    def test_same_fingerprint_is_rebound(self) -> None:
        self.old_binding("fixture/fixture-model@fnv64:0123456789abcdef")
        self.daemon.start()
        with self.daemon.client() as c:
            hits = c.search("notes", text="first note", k=1)
            self.assertEqual(hits[0].key, "a")
            self.assertEqual(c.describe_collection("notes").embedding_space, SPACE)
        self.assertIn(f"space {SPACE}\n", self.binding.read_text())
        self.assertIn("created_ms 1764000000000\n", self.binding.read_text(), "the rest of the binding is kept")
        self.assertIn("rebound from space fixture/fixture-model@fnv64:0123456789abcdef to " + SPACE, self.daemon.log())
        self.assertFalse((self.binding.parent / "embedd.binding.tmp").exists())

    def test_another_fingerprint_is_refused_as_before(self) -> None:
        old = "fixture/fixture-model@fnv64:fedcba9876543210"
        self.old_binding(old)
        before = self.binding.read_text()
        self.daemon.start()
        with self.daemon.client() as c:
            with self.assertRaises(embedd.FailedPreconditionError) as cm:
                c.search("notes", text="first note", k=1)
            self.assertIn("not comparable", cm.exception.message)
            self.assertEqual(c.describe_collection("notes").embedding_space, old)
        self.assertEqual(self.binding.read_text(), before)
        self.assertNotIn("rebound", self.daemon.log())


MINILM = Path(os.environ.get("EMBEDD_MODELS_DIR") or _support.REPO_ROOT / "models") / "all-MiniLM-L6-v2"


def doc_test_blocks(heading: str) -> List[str]:
    """The shell blocks marked `<!-- doc-test -->` in docs/operations.md's section `heading`."""
    text = (_support.REPO_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("\n" + heading + "\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"<!-- doc-test -->\n```sh\n(.*?)```", section, re.S)


def text_plugin_reason() -> str:
    d = _support.find_daemon()
    if d is None or not (d.resolve().parent / "libembedd-text.so").is_file():
        return "libembedd-text.so is not built"
    if not (MINILM / "model.safetensors").is_file():
        return f"{MINILM} absent: run tools/fetch-models"
    return ""


@unittest.skipIf(_support.missing_daemon_reason() is not None, _support.missing_daemon_reason() or "")
@unittest.skipIf(os.getuid() != 0, "admin calls need uid 0")
@unittest.skipIf(text_plugin_reason() != "", text_plugin_reason())
class DocExamplesTests(unittest.TestCase):
    """docs/operations.md's "Models from the shell" examples, verbatim in bash, as the admin the
    tests run as, against a daemon whose plugins_dir has the text plugin and whose models_dir is
    the repository's models/ (as tools/quickstart runs it), with embedctl on PATH and
    EMBEDD_SOCKET set. (test_operations_examples.py runs every section's the same way.)"""

    def test_the_examples_run_as_written(self) -> None:
        d = Daemon({"fx": {"dim": "16"}})
        self.addCleanup(d.cleanup)
        binary = _support.find_daemon().resolve()
        import shutil
        shutil.copyfile(binary.parent / "libembedd-text.so", d.plugins_dir / "libembedd-text.so")
        config = d.config_path.read_text()
        config = config.replace(f"models_dir: {d.dir / 'models'}", f"models_dir: {MINILM.parent}")
        config = config.replace("    model_dir: fx", f"    model_dir: {d.dir / 'models' / 'fx'}")
        d.config_path.write_text(config)
        d.start(timeout=120)
        blocks = doc_test_blocks("## Models from the shell")
        self.assertGreaterEqual(len(blocks), 2)
        env = dict(os.environ, PATH=f"{binary.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}", EMBEDD_SOCKET=d.socket_path)
        for block in blocks:
            r = subprocess.run(["/bin/bash", "-c", "set -euo pipefail\n" + block], capture_output=True, text=True, env=env, timeout=300)
            self.assertEqual(r.returncode, 0, f"{block}\n{r.stdout}\n{r.stderr}\n{d.log()}")
        self.assertRegex(r.stdout, r'"name": "scratch"')
        self.assertEqual(list((d.dir / "data" / "models.d").iterdir()), [], "every example unloads what it loaded")


if __name__ == "__main__":
    unittest.main()
