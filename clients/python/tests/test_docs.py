"""The READMEs against the client: the install steps are there, and every ``c.method(...)`` their
Python examples show exists on Client and takes the keywords shown (no daemon needed)."""

from __future__ import annotations

import ast
import inspect
import re
import unittest
from pathlib import Path
from typing import List, Tuple

import _support

import embedd

TOP_README = _support.REPO_ROOT / "README.md"
CLIENT_README = _support.PACKAGE_ROOT / "README.md"


def python_blocks(path: Path) -> List[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def client_calls(code: str) -> List[Tuple[str, List[str], int]]:
    """(method, keyword names, line) of every ``c.method(...)`` call in ``code``."""
    calls = []
    for node in ast.walk(ast.parse(code)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "c"):
            calls.append((node.func.attr, [k.arg for k in node.keywords if k.arg], node.lineno))
    return calls


class ReadmeTests(unittest.TestCase):
    def test_top_readme_says_how_to_install_the_python_client_on_debian_12(self) -> None:
        # Issue 25, item 10: the README links clients/python and gives the PEP 668-proof install.
        text = TOP_README.read_text(encoding="utf-8")
        self.assertTrue("## Use it from Python" in text, "README.md has no 'Use it from Python' section")
        section = text.split("## Use it from Python", 1)[1].split("\n## ", 1)[0]
        self.assertIn("[`clients/python`](clients/python)", section)
        self.assertIn("PEP 668", section)
        self.assertIn("python3 -m venv ~/.venvs/embedd", section)
        self.assertIn("~/.venvs/embedd/bin/pip install ./clients/python", section)
        self.assertIn("--system-site-packages", section)
        self.assertIn("PYTHONPATH=", section)
        for link in re.findall(r"\]\(((?:clients|docs)/[^)#]*)", text):
            self.assertTrue((_support.REPO_ROOT / link).exists(), f"README links {link}, which does not exist")
        # The two set-up commands stay as they are.
        self.assertIn("```sh\ntools/quickstart\n```", text)
        self.assertIn("```sh\ntools/test\n```", text)

    def test_client_readme_documents_install_and_score_direction(self) -> None:
        text = CLIENT_README.read_text(encoding="utf-8")
        for want in ("externally-managed-environment", "python3 -m venv", "### Scores"):
            self.assertTrue(want in text, f"clients/python/README.md does not mention {want}")
        scores = text.split("### Scores", 1)[1].split("###", 1)[0]
        for row in ("| `cosine`", "| `l2`", "| `ip`"):
            line = next(x for x in scores.splitlines() if x.startswith(row))
            self.assertIn("**lower**" if row == "| `l2`" else "**higher**", line)

    def test_every_client_call_in_the_readmes_exists(self) -> None:
        seen = 0
        for path in (TOP_README, CLIENT_README):
            for block in python_blocks(path):
                for method, keywords, line in client_calls(block):
                    seen += 1
                    where = f"{path.name}: c.{method}(...) (line {line} of its block)"
                    self.assertTrue(hasattr(embedd.Client, method), f"{where}: Client has no {method}")
                    params = inspect.signature(getattr(embedd.Client, method)).parameters
                    for k in keywords:
                        self.assertIn(k, params, f"{where}: {method} takes no keyword {k}")
        self.assertGreater(seen, 30)


if __name__ == "__main__":
    unittest.main()
