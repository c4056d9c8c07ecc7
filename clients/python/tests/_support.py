"""Shared helpers of the client tests: import path, the real daemon as a child process, and a
Python re-implementation of the C fixture plugin's vectors (so tests check exact values).
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent                      # clients/python
REPO_ROOT = PACKAGE_ROOT.parent.parent          # the embedd checkout

# Test the package in this tree, also when another version is pip-installed.
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))

import embedd  # noqa: E402  (after the path set-up above)


def package_copy_for_other_users() -> str:
    """A directory every user may read holding a copy of the ``embedd`` package, for tests that
    run the client as another uid: the checkout itself may sit under a private directory (a CI
    workspace made by ``mktemp -d`` is mode 0700). The caller removes it."""
    root = tempfile.mkdtemp(prefix="embedd-client-")
    shutil.copytree(PACKAGE_ROOT / "embedd", os.path.join(root, "embedd"))
    for path, _dirs, files in os.walk(root):
        os.chmod(path, 0o755)
        for f in files:
            os.chmod(os.path.join(path, f), 0o644)
    return root


def run_client_as_nobody(test, code: str, socket_path: str) -> "subprocess.CompletedProcess[str]":
    """Runs ``code`` as uid ``nobody`` with the client package importable (``sys.argv[1]``) and
    the daemon's socket path as ``sys.argv[2]``; skips ``test`` when nobody cannot run Python
    (a pyenv under /root), and asserts it exited 0. Code should start with
    ``import sys; sys.path.insert(0, sys.argv[1]); import embedd``."""
    import pwd
    nobody = pwd.getpwnam("nobody")
    # An interpreter that uid nobody may run.
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    try:
        package = package_copy_for_other_users()
        test.addCleanup(shutil.rmtree, package, True)
        r = subprocess.run([python, "-c", code, package, socket_path],
                           user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[], capture_output=True,
                           text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    except PermissionError as e:
        test.skipTest(f"uid nobody cannot run {python}: {e}")
    test.assertEqual(r.returncode, 0, r.stderr)
    return r


# ---------------------------------------------------------------------------- finding binaries


def find_daemon() -> Optional[Path]:
    """The embedd binary: ``$EMBEDD_BIN``, else the newest of .build/release and .build/debug."""
    env = os.environ.get("EMBEDD_BIN")
    if env:
        p = Path(env)
        return p if p.is_file() and os.access(p, os.X_OK) else None
    found = [REPO_ROOT / ".build" / kind / "embedd" for kind in ("release", "debug")]
    found = [p for p in found if p.is_file() and os.access(p, os.X_OK)]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def fixture_plugin(daemon: Path) -> Optional[Path]:
    """``libembedd-fixture.so`` next to the daemon binary (SwiftPM puts products together)."""
    p = daemon.resolve().parent / "libembedd-fixture.so"
    return p if p.is_file() else None


def missing_daemon_reason() -> Optional[str]:
    """Why the live tests cannot run, or None when they can.

    With ``EMBEDD_BIN`` set (as ``tools/test`` does) a missing binary or fixture is an error, not
    a reason to skip: the suite must not pass by testing nothing.
    """
    reason = None
    d = find_daemon()
    if d is None:
        where = os.environ.get("EMBEDD_BIN") or f"{REPO_ROOT}/.build/{{release,debug}}/embedd"
        reason = (f"embedd binary not found at {where}: build it first "
                  f"(swift build -c release --product embedd; --product embedd-fixture) or set EMBEDD_BIN")
    elif fixture_plugin(d) is None:
        reason = f"libembedd-fixture.so not found next to {d}: swift build --product embedd-fixture"
    if reason and os.environ.get("EMBEDD_BIN"):
        raise RuntimeError(reason)
    return reason


# ---------------------------------------------------------------------------- the daemon


class Daemon:
    """The real ``embedd`` binary on a temp socket, temp data dir and a temp config that loads
    the C fixture plugin (no model weights needed). Use as a context manager or start()/stop().

    ``models`` maps model name → fixture options; the first one is the default model.
    """

    def __init__(self, models: Optional[Dict[str, Dict[str, str]]] = None, *, limits: Optional[Dict[str, str]] = None,
                 batching: Optional[Dict[str, str]] = None, socket_mode: str = "0600",
                 extra_yaml: str = "", log_level: str = "info") -> None:
        reason = missing_daemon_reason()
        if reason:
            raise RuntimeError(reason)
        self.binary = find_daemon()
        assert self.binary is not None
        plugin = fixture_plugin(self.binary)
        assert plugin is not None
        self.models = models or {"fx": {"dim": "32"}}
        self.dir = Path(tempfile.mkdtemp(prefix="embedd-py-", dir="/tmp"))
        os.chmod(self.dir, 0o755)
        self.socket_path = str(self.dir / "embedd.sock")
        self.plugins_dir = self.dir / "plugins"
        self.plugins_dir.mkdir()
        # Only the fixture in the plugins directory, so discovery loads nothing else. A copy, not
        # a symlink: the daemon refuses plugins found through plugins_dir that resolve outside it.
        shutil.copyfile(plugin, self.plugins_dir / "libembedd-fixture.so")
        self.fixture_path = str(plugin)
        (self.dir / "data").mkdir()
        models_dir = self.dir / "models"
        for name in self.models:
            (models_dir / name).mkdir(parents=True)
        lines = [
            "socket:",
            f"  path: {self.socket_path}",
            f'  mode: "{socket_mode}"',
            f"data_dir: {self.dir / 'data'}",
            f"plugins_dir: {self.plugins_dir}",
            f"models_dir: {models_dir}",
            f"log_level: {log_level}",
        ]
        if limits:
            lines.append("limits:")
            lines += [f"  {k}: {v}" for k, v in limits.items()]
        if batching:
            lines.append("batching:")
            lines += [f"  {k}: {v}" for k, v in batching.items()]
        lines.append("models:")
        for i, (name, options) in enumerate(self.models.items()):
            lines += [f"  - name: {name}", "    plugin: fixture", f"    model_dir: {name}"]
            if i == 0:
                lines.append("    default: true")
            if options:
                lines.append("    options:")
                lines += [f'      {k}: "{v}"' for k, v in options.items()]
        self.config_path = self.dir / "embedd.yaml"
        self.config_path.write_text("\n".join(lines) + "\n" + extra_yaml)
        self.log_path = self.dir / "embedd.log"
        self.process: Optional[subprocess.Popen[bytes]] = None

    def start(self, timeout: float = 30.0, *, all_ready: bool = True) -> "Daemon":
        """Starts the daemon and waits until Health says SERVING (and, with ``all_ready``, every
        model is READY; else until none is still loading)."""
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([str(self.binary), "--config", str(self.config_path)],
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        end = time.monotonic() + timeout
        last = "socket not created"
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.binary} exited with {self.process.returncode} during start-up:\n{self.log()}")
            if os.path.exists(self.socket_path):
                try:
                    with embedd.Client(self.socket_path, connect_timeout=2) as c:
                        # Health is SERVING once one model is ready; wait for all of them.
                        models = c.models(timeout=2)
                        unsettled = embedd.ModelState.LOADING if not all_ready else None
                        waiting = [f"{x.name} {x.state.name} {x.error}" for x in models
                                   if (x.state == unsettled if unsettled is not None else x.state != embedd.ModelState.READY)]
                        if not waiting and c.health(timeout=2).status == embedd.ServingStatus.SERVING:
                            return self
                        last = "models not ready: " + "; ".join(waiting)
                except embedd.EmbeddError as e:
                    last = str(e)
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"embedd did not become ready within {timeout} s ({last}):\n{self.log()}")

    def stop(self, timeout: float = 20.0) -> Optional[int]:
        """SIGTERM, wait for exit (SIGKILL after ``timeout``); returns the exit status."""
        p = self.process
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def cleanup(self) -> None:
        """Stops the daemon (if running) and removes its directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return "(no log)"

    def client(self, **kwargs: object) -> embedd.Client:
        return embedd.Client(self.socket_path, **kwargs)  # type: ignore[arg-type]

    def __enter__(self) -> "Daemon":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def fresh_collection(c: embedd.Client, name: str, **kw: object) -> embedd.CollectionInfo:
    """Creates collection ``name`` with ``kw``, dropping one of that name first (tests re-run in one daemon)."""
    try:
        c.drop_collection(name)
    except embedd.NotFoundError:
        pass
    return c.create_collection(name, **kw)  # type: ignore[arg-type]


def raw_connect(path: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


# ---------------------------------------------------------------------------- fixture vectors

_FNV_OFFSET = 1469598103934665603
_FNV_PRIME = 1099511628211
_M64 = (1 << 64) - 1


def _fnv1a(h: int, data: bytes) -> int:
    for b in data:
        h ^= b
        h = (h * _FNV_PRIME) & _M64
    return h


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def fixture_vector(text: str, dim: int, version: str = "v1", salt: str = "") -> List[float]:
    """The vector the C fixture plugin computes for ``text`` (Tests/Fixtures/CFixturePlugin/fixture.c):
    lower-cased character trigrams, FNV-1a + a MurmurHash3 finaliser into ±1 buckets, then
    L2-normalised in float32 exactly as the C code rounds."""
    seed = _fnv1a(_fnv1a(_fnv1a(_FNV_OFFSET, version.encode()), b"/"), salt.encode())
    data = text.encode("utf-8")
    v = [0.0] * dim
    window = [32, 32, 32]

    def add(h: int) -> None:
        h ^= h >> 33
        h = (h * 0xFF51AFD7ED558CCD) & _M64
        h ^= h >> 33
        v[h % dim] += -1.0 if (h >> 63) else 1.0

    for i in range(len(data) + 1):
        c = data[i] if i < len(data) else 32
        if 65 <= c <= 90:
            c += 32
        window = [window[1], window[2], c]
        add(_fnv1a(seed, bytes(window)))
    s = sum(x * x for x in v)
    if s == 0:
        add(seed)
        s = sum(x * x for x in v)
    inv = _f32(1.0 / math.sqrt(s))
    return [_f32(x * inv) for x in v]


def fixture_media(payload: bytes) -> bytes:
    """An encoded media file the fixture accepts (MIME application/x-embedd-fixture)."""
    return b"FXTR" + struct.pack("<I", len(payload)) + payload


def rows(vectors: object) -> List[List[float]]:
    """A result of Client.embed as plain lists (NumPy array or lists)."""
    tolist = getattr(vectors, "tolist", None)
    return tolist() if tolist is not None else [list(r) for r in vectors]  # type: ignore[union-attr]


def assert_rows_equal(tc: object, got: object, want: Sequence[Sequence[float]]) -> None:
    g = rows(got)
    tc.assertEqual(len(g), len(want))  # type: ignore[attr-defined]
    for i, (a, b) in enumerate(zip(g, want)):
        tc.assertEqual(list(a), list(b), f"row {i} differs")  # type: ignore[attr-defined]
