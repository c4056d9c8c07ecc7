"""Runs the examples of docs/operations.md verbatim against a real daemon started here.

Which blocks run
    A fenced ``sh`` (or ``bash``/``shell``) block whose previous line is ``<!-- doc-test -->``.
    ``<!-- doc-test exit=N -->`` expects exit status N instead of 0 (an example of an error).
    A fenced ``text`` block right after such a block (blank lines between are allowed), whose
    previous line is ``<!-- doc-test output -->``, is its expected output: each of its
    non-blank lines must occur, in order, within the lines the block printed (standard output
    and standard error together); a line ``...`` stands for any number of lines. Without it the
    output is not checked. Blocks without the marker are illustrations and do not run.

What a block gets
    - All blocks of the file run in order, in one bash each (``set -euo pipefail``), against one
      daemon started for the whole file: what one block creates (collections, files), the next
      one sees. Each block has 120 seconds.
    - The working directory is one scratch directory shared by the blocks (removed after).
    - ``EMBEDD_SOCKET`` is exported: the daemon's socket, so ``embedctl`` needs no ``--socket``.
    - ``PATH`` starts with the directory of the daemon under test, so ``embedctl`` and ``embedd``
      are the ones just built.
    - The daemon serves one model, its default: ``all-MiniLM-L6-v2`` (``$EMBEDD_MODEL``). It is the
      real text plugin with the real weights when both are there (``libembedd-text.so`` beside the
      daemon, ``models/all-MiniLM-L6-v2`` in the checkout or ``$EMBEDD_MODELS_DIR``; ``tools/test``
      fetches them), else the fixture plugin under that name (384-dimensional vectors derived
      from a hash of the text: deterministic, not semantic). ``EMBEDD_DOCTEST_MODEL=fixture``
      forces the fixture. So an example may name the model, but its checked output must not
      depend on which of the two embeds (no scores, no order of near neighbours).
    - ``EMBEDD_FIXTURE_PLUGIN`` is the path of ``libembedd-fixture.so`` and
      ``EMBEDD_MODELS_DIR_FOR_DOCS`` the daemon's ``models_dir`` (for examples that load models).
    - The daemon runs with its defaults otherwise, and ``log_level: info``; its log is printed
      when a block fails.

Run: ``cd clients/python/tests && EMBEDD_BIN=.../embedd python3 -m unittest test_operations_examples``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path
from typing import List, NamedTuple, Optional

import _support
from _support import Daemon, find_daemon

DOC = _support.REPO_ROOT / "docs" / "operations.md"
MODEL = "all-MiniLM-L6-v2"


class Block(NamedTuple):
    line: int                  # 1-based line of the opening fence in DOC
    code: str
    exit: int
    output: Optional[str]      # the expected-output block, if any


def doc_blocks(text: str) -> List[Block]:
    """The ``<!-- doc-test -->`` blocks of ``text``, in order, with their expected outputs."""
    lines = text.split("\n")
    blocks: List[Block] = []
    i = 0

    def fenced(start: int) -> tuple:
        """(code, index after the closing fence) of the block opening at ``start``."""
        end = start + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise AssertionError(f"{DOC}:{start + 1}: unclosed code block")
        return "\n".join(lines[start + 1:end]) + "\n", end + 1

    while i < len(lines):
        m = re.fullmatch(r"<!-- doc-test(?: exit=(\d+))? -->", lines[i].strip())
        if not m:
            i += 1
            continue
        fence = i + 1
        if fence >= len(lines) or lines[fence].strip() not in ("```sh", "```bash", "```shell"):
            raise AssertionError(f"{DOC}:{i + 1}: <!-- doc-test --> must be followed by a ```sh block")
        code, i = fenced(fence)
        output = None
        j = i
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j + 1 < len(lines) and lines[j].strip() == "<!-- doc-test output -->":
            if lines[j + 1].strip() != "```text":
                raise AssertionError(f"{DOC}:{j + 1}: <!-- doc-test output --> must be followed by a ```text block")
            output, i = fenced(j + 1)
        blocks.append(Block(fence + 1, code, int(m.group(1) or 0), output))
    return blocks


def output_problem(expected: str, got: str) -> Optional[str]:
    """Why ``got`` does not show ``expected`` (its lines in order, ``...`` for any lines), or None."""
    have = got.split("\n")
    at = 0
    for want in (x.rstrip() for x in expected.split("\n")):
        if not want.strip() or want.strip() == "...":
            continue
        while at < len(have) and want.strip() not in have[at]:
            at += 1
        if at == len(have):
            return f"expected a line containing {want.strip()!r} (in order)"
        at += 1
    return None


def _real_model() -> Optional[str]:
    """``models:`` lines for the real text model, or None when the plugin or weights are missing."""
    if os.environ.get("EMBEDD_DOCTEST_MODEL") == "fixture":
        return None
    daemon = find_daemon()
    plugin = daemon.resolve().parent / "libembedd-text.so" if daemon else None
    models = Path(os.environ.get("EMBEDD_MODELS_DIR") or _support.REPO_ROOT / "models")
    folder = models / MODEL
    if plugin is None or not plugin.is_file() or not (folder / "model.safetensors").is_file():
        return None
    return f"  - name: {MODEL}\n    plugin: text\n    model_dir: {folder.resolve()}\n    default: true\n"


def setUpModule() -> None:
    reason = _support.missing_daemon_reason()
    if reason:
        raise unittest.SkipTest(f"operations examples skipped: {reason}")


class OperationsExamples(unittest.TestCase):
    def test_the_doc_test_markers_parse(self) -> None:
        sample = "\n".join([
            "<!-- doc-test -->", "```sh", "echo a", "echo b", "```", "", "<!-- doc-test output -->", "```text", "a", "...", "b", "```",
            "<!-- doc-test exit=2 -->", "```sh", "exit 2", "```", "```sh", "not run", "```",
        ])
        blocks = doc_blocks(sample)
        self.assertEqual([(b.line, b.code, b.exit, b.output) for b in blocks],
                         [(2, "echo a\necho b\n", 0, "a\n...\nb\n"), (14, "exit 2\n", 2, None)])
        self.assertIsNone(output_problem("a\n...\nb\n", "x\na\ny\nb\n"))
        self.assertIsNotNone(output_problem("b\na\n", "a\nb\n"))

    def test_examples_run_verbatim(self) -> None:
        blocks = doc_blocks(DOC.read_text(encoding="utf-8"))
        self.assertTrue(blocks, f"{DOC} has no <!-- doc-test --> blocks")
        real = _real_model()
        models_dir: Optional[Path] = None
        if real:
            # The fixture stays loaded beside the real model (not the default): model examples may use it.
            daemon = Daemon({"fixture-model": {"dim": "8"}}, extra_yaml="")
            # As tools/quickstart runs it: the text plugin in plugins_dir (a copy: the daemon
            # refuses plugins that resolve outside it), the checkout's models/ as models_dir, so
            # `embedctl models load X --plugin text --dir all-MiniLM-L6-v2` works as written.
            assert daemon.binary is not None
            shutil.copyfile(daemon.binary.resolve().parent / "libembedd-text.so", daemon.plugins_dir / "libembedd-text.so")
            models = models_dir = Path(os.environ.get("EMBEDD_MODELS_DIR") or _support.REPO_ROOT / "models").resolve()
            text = daemon.config_path.read_text().replace("    default: true\n", "")
            text = text.replace(f"models_dir: {daemon.dir / 'models'}", f"models_dir: {models}")
            text = text.replace("    model_dir: fixture-model", f"    model_dir: {daemon.dir / 'models' / 'fixture-model'}")
            daemon.config_path.write_text(text + real)
        else:
            daemon = Daemon({MODEL: {"dim": "384"}})
        scratch = Path(tempfile.mkdtemp(prefix="embedd-docs-"))
        self.addCleanup(shutil.rmtree, scratch, True)
        daemon.start(timeout=120)
        self.addCleanup(daemon.cleanup)
        assert daemon.binary is not None
        env = dict(os.environ)
        env.update({
            "EMBEDD_SOCKET": daemon.socket_path,
            "PATH": f"{daemon.binary.resolve().parent}:{env.get('PATH', '/usr/bin:/bin')}",
            "EMBEDD_MODEL": MODEL,
            "EMBEDD_FIXTURE_PLUGIN": daemon.fixture_path,
            "EMBEDD_MODELS_DIR_FOR_DOCS": str(models_dir or daemon.dir / "models"),
            "LC_ALL": "C.UTF-8",
        })
        for b in blocks:
            with self.subTest(line=b.line):
                r = subprocess.run(["bash", "-c", "set -euo pipefail\n" + b.code], cwd=scratch, env=env,
                                   capture_output=True, text=True, timeout=120)
                shown = r.stdout + r.stderr
                where = f"{DOC}:{b.line}: the example\n{b.code}"
                self.assertEqual(r.returncode, b.exit,
                                 f"{where}exited {r.returncode}, expected {b.exit}:\n{shown}\n--- daemon log ---\n{daemon.log()}")
                if b.output is not None:
                    problem = output_problem(b.output, shown)
                    self.assertIsNone(problem, f"{where}printed:\n{shown}\n{problem}")


if __name__ == "__main__":
    unittest.main()
