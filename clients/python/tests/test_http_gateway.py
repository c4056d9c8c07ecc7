"""embedd-http end to end: the real daemon and the real gateway, driven by the official
``openai`` package and by plain HTTP for TEI's routes, auth, limits and timeouts.

The vectors the gateway returns must equal the Python client's over the Unix socket exactly.
Needs ``openai`` (tools/test-venv installs it): skipped loudly without it, a failure under CI=true.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import socket
import stat
import struct
import subprocess
import tempfile
import time
import unittest
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from _support import Daemon, find_daemon, missing_daemon_reason, rows

try:
    import openai
except ImportError:  # pragma: no cover - depends on the environment
    openai = None  # type: ignore[assignment]
    if os.environ.get("CI") == "true":
        raise RuntimeError("the openai package is missing under CI=true: run the tests with tools/test-venv's python")
    print("\n*** test_http_gateway: the openai package is missing (use tools/test-venv's python); its tests are SKIPPED ***\n")

KEY = "sk-test-key-0123456789"


def gateway_binary() -> Optional[Path]:
    d = find_daemon()
    p = d.resolve().parent / "embedd-http" if d else None
    return p if p is not None and p.is_file() else None


def _skip_reason() -> Optional[str]:
    reason = missing_daemon_reason()
    if reason is None and gateway_binary() is None:
        reason = "embedd-http not found next to the embedd binary: swift build --product embedd-http"
        if os.environ.get("EMBEDD_BIN"):
            raise RuntimeError(reason)
    return reason


class Gateway:
    """The real embedd-http on 127.0.0.1 (a free port) and/or a Unix socket."""

    def __init__(self, daemon: Daemon, *args: str, keys: Optional[List[str]] = None, tcp: bool = True) -> None:
        binary = gateway_binary()
        assert binary is not None
        self.dir = Path(tempfile.mkdtemp(prefix="embedd-http-", dir="/tmp"))
        argv = [str(binary), "--socket", daemon.socket_path]
        if tcp:
            argv += ["--listen", "127.0.0.1:0"]
        if keys is not None:
            (self.dir / "keys").write_text("# test keys\n\n" + "\n".join(keys) + "\n")
            argv += ["--api-keys", str(self.dir / "keys")]
        self.argv = argv + list(args)
        self.log_path = self.dir / "http.log"
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.port = 0

    def start(self) -> "Gateway":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        end = time.monotonic() + 20
        while time.monotonic() < end:
            m = re.search(r"listening on (\S+)", self.log())
            if m:
                p = re.search(r"127\.0\.0\.1:(\d+)", self.log())
                self.port = int(p.group(1)) if p else 0
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"embedd-http exited with {self.process.returncode}:\n{self.log()}")
            time.sleep(0.02)
        raise RuntimeError("embedd-http did not start:\n" + self.log())

    def stop(self) -> Optional[int]:
        p = self.process
        if p is None:
            return None
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def request(self, method: str, path: str, body: object = None, *, key: Optional[str] = KEY,
                headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            h = dict(headers or {})
            if key is not None:
                h["Authorization"] = f"Bearer {key}"
            data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
            if data is not None:
                h.setdefault("Content-Type", "application/json")
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def raw(self, data: bytes, *, wait: float = 10.0) -> bytes:
        """Sends ``data`` on a fresh connection and reads until the server closes it."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=wait) as s:
            s.sendall(data)
            out = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except (ConnectionResetError, socket.timeout):
                    break
                if not chunk:
                    break
                out += chunk
            return out


def f32(rows_: object) -> List[List[float]]:
    """JSON numbers rounded to float32, as a float32 client reads them: the gateway writes each
    float32 in the shortest form that rounds back to it, so these equal the model's values exactly."""
    return [[struct.unpack("<f", struct.pack("<f", x))[0] for x in row] for row in rows_]  # type: ignore[union-attr]


def status_of(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else -1


@unittest.skipIf(_skip_reason() is not None, str(_skip_reason()))
class GatewayTests(unittest.TestCase):
    daemon: Daemon
    gw: Gateway

    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon({"fx": {"dim": "32"}, "other": {"dim": "8"}}, socket_mode="0660").start()
        cls.gw = Gateway(cls.daemon, "--max-body", "65536", "--request-timeout", "1", "--max-connections", "8",
                         keys=[KEY, "second-key"]).start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.gw.stop()
        cls.daemon.cleanup()

    def direct(self, texts: List[str], model: Optional[str] = None) -> List[List[float]]:
        with self.daemon.client() as c:
            return rows(c.embed(texts, model))

    def test_tei_embed_equals_the_socket_client(self) -> None:
        status, headers, body = self.gw.request("POST", "/embed", {"inputs": ["hello", "world"]})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(f32(json.loads(body)), self.direct(["hello", "world"]))
        status, _, body = self.gw.request("POST", "/embed", {"inputs": "one"})
        self.assertEqual((status, f32(json.loads(body))), (200, self.direct(["one"])))

    def test_tei_info_and_health(self) -> None:
        status, _, body = self.gw.request("GET", "/info")
        info = json.loads(body)
        self.assertEqual(status, 200)
        self.assertEqual(info["model_id"], "fx")
        self.assertIn("max_input_length", info)
        self.assertIn("max_client_batch_size", info)
        # /health needs no key (load balancers probe it).
        status, _, body = self.gw.request("GET", "/health", key=None)
        self.assertEqual((status, body), (200, b""))

    def test_models_list(self) -> None:
        status, _, body = self.gw.request("GET", "/v1/models")
        listing = json.loads(body)
        self.assertEqual(status, 200)
        self.assertEqual(listing["object"], "list")
        self.assertEqual(sorted(m["id"] for m in listing["data"]), ["fx", "other"])
        self.assertTrue(all(m["object"] == "model" for m in listing["data"]))
        status, _, body = self.gw.request("GET", "/v1/models/other")
        self.assertEqual((status, json.loads(body)["id"]), (200, "other"))
        status, _, body = self.gw.request("GET", "/v1/models/nope")
        self.assertEqual((status, json.loads(body)["error"]["code"]), (404, "model_not_found"))

    def test_metrics_route_serves_the_daemons_exposition_and_needs_a_key(self) -> None:
        def embed_calls(text: str) -> float:
            total = 0.0
            for line in text.splitlines():
                if line.startswith('embedd_calls_total{') and 'method="Embed"' in line and 'code="OK"' in line:
                    total += float(line.rsplit(" ", 1)[1])
            return total
        status, headers, body = self.gw.request("GET", "/metrics")
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        before = embed_calls(body.decode())
        self.assertIn("# TYPE embedd_calls_total counter", body.decode())
        self.assertEqual(self.gw.request("POST", "/embed", {"inputs": "counted"})[0], 200)
        _, _, body = self.gw.request("GET", "/metrics")
        self.assertEqual(embed_calls(body.decode()), before + 1)
        status, _, body = self.gw.request("GET", "/metrics", key=None)
        self.assertEqual(status, 401, body)
        self.assertEqual(self.gw.request("POST", "/metrics")[0], 405)

    def test_auth(self) -> None:
        for key, code in [(None, "missing_api_key"), ("wrong", "invalid_api_key"), (KEY + "x", "invalid_api_key"), ("", "missing_api_key")]:
            status, headers, body = self.gw.request("POST", "/v1/embeddings", {"input": "a"}, key=key if key != "" else None)
            self.assertEqual(status, 401, (key, body))
            self.assertEqual(headers.get("www-authenticate"), "Bearer")
            self.assertEqual(json.loads(body)["error"]["code"], code)
        status, _, _ = self.gw.request("POST", "/v1/embeddings", {"input": "a"}, key="second-key")
        self.assertEqual(status, 200)

    def test_bad_requests_are_openai_shaped_400s(self) -> None:
        cases = [(b"{not json", None, "not valid JSON"), ({"input": [1, 2, 3]}, "input", "check_embedding_ctx_length=False"),
                 ({"input": [[1, 2], [3]]}, "input", "token ids"), ({"model": "fx"}, "input", "required"),
                 ({"input": "a", "encoding_format": "int8"}, "encoding_format", "base64"),
                 ({"input": "a", "dimensions": 31}, "dimensions", "32-dimensional")]
        for body, param, words in cases:
            status, _, out = self.gw.request("POST", "/v1/embeddings", body)
            err = json.loads(out)["error"]
            self.assertEqual(status, 400, out)
            self.assertEqual(err["param"], param, out)
            self.assertIn(words, err["message"])
            self.assertEqual(err["type"], "invalid_request_error")
        status, _, out = self.gw.request("POST", "/v1/embeddings", {"input": "a", "model": "nope"})
        self.assertEqual((status, json.loads(out)["error"]["code"]), (404, "model_not_found"), out)
        status, headers, _ = self.gw.request("GET", "/v1/embeddings")
        self.assertEqual((status, headers.get("allow")), (405, "POST"))
        status, _, _ = self.gw.request("GET", "/nowhere")
        self.assertEqual(status, 404)

    def test_oversize_body_is_413_and_the_server_goes_on(self) -> None:
        big = {"input": "x" * 70000}
        status, _, body = self.gw.request("POST", "/v1/embeddings", big)
        self.assertEqual(status, 413, body)
        status, _, _ = self.gw.request("POST", "/v1/embeddings", {"input": "after"})
        self.assertEqual(status, 200)

    def test_malformed_and_smuggling_heads_close_with_400(self) -> None:
        for raw in [b"POST /v1/embeddings HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                    b"POST /v1/embeddings HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                    b"GET / HTTP/1.1\nHost: a\n\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage\r\n\r\n"]:
            self.assertEqual(status_of(self.gw.raw(raw)), 400, raw)

    def test_pipelined_requests_are_answered_in_order(self) -> None:
        auth = f"Authorization: Bearer {KEY}\r\n".encode()
        reqs = b""
        for text in ["first", "second", "third"]:
            body = json.dumps({"inputs": text}).encode()
            reqs += (b"POST /embed HTTP/1.1\r\nHost: a\r\n" + auth + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        reqs += b"GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        out = self.gw.raw(reqs)
        parts = out.split(b"HTTP/1.1 ")[1:]
        self.assertEqual(len(parts), 4, out[:500])
        for part, text in zip(parts, ["first", "second", "third"]):
            self.assertEqual(f32(json.loads(part.split(b"\r\n\r\n", 1)[1])), self.direct([text]))

    def test_chunked_body_and_expect_continue(self) -> None:
        body = json.dumps({"inputs": "chunky"}).encode()
        chunked = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (5, body[:5], len(body) - 5, body[5:])
        out = self.gw.raw(b"POST /embed HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " + KEY.encode()
                          + b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked)
        self.assertEqual(f32(json.loads(out.split(b"\r\n\r\n", 1)[1])), self.direct(["chunky"]))
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=10) as s:
            s.sendall(b"POST /embed HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " + KEY.encode()
                      + b"\r\nExpect: 100-continue\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n"))
            s.sendall(body)
            rest = b""
            while chunk := s.recv(65536):
                rest += chunk
            self.assertEqual(status_of(rest), 200)

    def test_a_slow_client_gets_408_and_does_not_hold_up_others(self) -> None:
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=10) as slow:
            slow.sendall(b"POST /embed HTTP/1.1\r\nHost: a\r\n")
            t0 = time.monotonic()
            status, _, _ = self.gw.request("POST", "/embed", {"inputs": "meanwhile"})
            self.assertEqual(status, 200)
            self.assertLess(time.monotonic() - t0, 0.9)  # answered before the slow client's deadline
            out = b""
            while chunk := slow.recv(65536):
                out += chunk
            self.assertEqual(status_of(out), 408, out)
            self.assertGreaterEqual(time.monotonic() - t0, 0.9)

    def test_connections_beyond_the_limit_get_503(self) -> None:
        held = []
        try:
            # Up to the limit (8, less any connection another test left closing).
            for _ in range(8):
                s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=10)
                held.append(s)
            time.sleep(0.2)
            extra = socket.create_connection(("127.0.0.1", self.gw.port), timeout=10)
            try:
                data = extra.recv(65536)
            except ConnectionResetError:
                data = b"reset"
            extra.close()
            self.assertTrue(data == b"reset" or status_of(data) == 503, data)
        finally:
            for s in held:
                s.close()
        # Once they close, new clients are served again.
        end = time.monotonic() + 5
        while True:
            try:
                status, _, _ = self.gw.request("GET", "/health")
            except (ConnectionError, http.client.HTTPException):
                status = 0
            if status == 200 or time.monotonic() > end:
                break
            time.sleep(0.05)
        self.assertEqual(status, 200)

    @unittest.skipIf(openai is None, "the openai package is missing (tools/test-venv)")
    def test_openai_package_float_and_base64(self) -> None:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{self.gw.port}/v1", api_key=KEY, max_retries=0)
        self.addCleanup(client.close)
        texts = ["The quick brown fox", "jumps over the lazy dog", "ünïcödé ✓"]
        want = self.direct(texts)
        as_float = client.embeddings.create(model="fx", input=texts, encoding_format="float")
        self.assertEqual(f32([d.embedding for d in as_float.data]), want)
        self.assertEqual([d.index for d in as_float.data], [0, 1, 2])
        self.assertEqual(as_float.model, "fx")
        # The package's default asks for base64 and decodes it to floats itself.
        default = client.embeddings.create(model="fx", input=texts)
        self.assertEqual(f32([d.embedding for d in default.data]), want)
        raw = client.embeddings.with_raw_response.create(model="fx", input="one", encoding_format="base64")
        b64 = json.loads(raw.http_response.text)["data"][0]["embedding"]
        decoded = list(struct.unpack(f"<{len(base64.b64decode(b64)) // 4}f", base64.b64decode(b64)))
        self.assertEqual(decoded, self.direct(["one"])[0])
        other = client.embeddings.create(model="other", input="x", encoding_format="float")
        self.assertEqual(f32([other.data[0].embedding]), self.direct(["x"], "other"))
        with self.assertRaises(openai.AuthenticationError), \
                openai.OpenAI(base_url=f"http://127.0.0.1:{self.gw.port}/v1", api_key="bad", max_retries=0) as bad:
            bad.embeddings.create(model="fx", input="a")
        with self.assertRaises(openai.NotFoundError):
            client.embeddings.create(model="gpt-nope", input="a")
        with self.assertRaises(openai.BadRequestError):  # the daemon's INVALID_ARGUMENT
            client.embeddings.create(model="fx", input=["a", ""])
        with self.assertRaises(openai.BadRequestError) as cm:
            client.embeddings.create(model="fx", input=[[1, 2, 3]])
        self.assertIn("check_embedding_ctx_length=False", str(cm.exception))


@unittest.skipIf(_skip_reason() is not None, str(_skip_reason()))
class GatewayStartupTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.daemon = Daemon({"fx": {"dim": "16"}}, socket_mode="0660").start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.daemon.cleanup()

    def test_tcp_without_keys_refuses_to_start(self) -> None:
        gw = Gateway(self.daemon)
        p = subprocess.run(gw.argv, capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn("needs API keys", p.stderr)
        self.assertIn("--no-auth", p.stderr)

    def test_no_auth_serves_without_keys(self) -> None:
        gw = Gateway(self.daemon, "--no-auth").start()
        self.addCleanup(gw.stop)
        status, _, body = gw.request("POST", "/embed", {"inputs": "free"}, key=None)
        self.assertEqual(status, 200, body)
        with self.daemon.client() as c:
            self.assertEqual(f32(json.loads(body)), rows(c.embed(["free"])))

    def test_unix_listener_takes_the_daemon_sockets_mode_and_needs_no_key(self) -> None:
        path = str(self.daemon.dir / "http.sock")
        gw = Gateway(self.daemon, "--listen", "unix:" + path, tcp=False).start()
        self.addCleanup(gw.stop)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), stat.S_IMODE(os.stat(self.daemon.socket_path).st_mode))
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(path)
            body = b'{"inputs":"over unix"}'
            s.sendall(b"POST /embed HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        self.assertEqual(status_of(out), 200, out)
        with self.daemon.client() as c:
            self.assertEqual(f32(json.loads(out.split(b"\r\n\r\n", 1)[1])), rows(c.embed(["over unix"])))
        self.assertEqual(gw.stop(), 0)
        self.assertFalse(os.path.exists(path))  # removed at exit

    def test_config_file_http_section(self) -> None:
        keys = self.daemon.dir / "cfg-keys"
        keys.write_text("cfg-key\n")
        cfg = self.daemon.dir / "gw.yaml"
        cfg.write_text(f"socket:\n  path: {self.daemon.socket_path}\nhttp:\n  listen: 127.0.0.1:0\n  api_keys: {keys}\n")
        binary = gateway_binary()
        gw = Gateway(self.daemon, tcp=False)
        gw.argv = [str(binary), "--config", str(cfg)]
        gw.start()
        self.addCleanup(gw.stop)
        self.assertEqual(gw.request("GET", "/info", key="cfg-key")[0], 200)
        self.assertEqual(gw.request("GET", "/info", key=KEY)[0], 401)
        # embedd --check-config validates the section too.
        bad = self.daemon.dir / "bad.yaml"
        bad.write_text("http:\n  listen: nowhere\n")
        p = subprocess.run([str(find_daemon()), "--check-config", str(bad)], capture_output=True, text=True, timeout=20)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("2:11", p.stderr + p.stdout)


def _minilm_folder() -> Path:
    models = Path(os.environ.get("EMBEDD_MODELS_DIR", str(Path(__file__).resolve().parents[3] / "models")))
    return models / "all-MiniLM-L6-v2"


def _text_plugin() -> str:
    binary = find_daemon()
    plugin = binary.resolve().parent / "libembedd-text.so" if binary else None
    return str(plugin) if plugin is not None and plugin.is_file() else ""


@unittest.skipIf(_skip_reason() is not None, str(_skip_reason()))
@unittest.skipUnless(_text_plugin() and (_minilm_folder() / "model.safetensors").is_file(),
                     "the text plugin or all-MiniLM-L6-v2 is absent (tools/fetch-models)")
class GatewayMiniLMTests(unittest.TestCase):
    """The real text model: token counts in usage, and TEI's truncate=false."""

    @classmethod
    def setUpClass(cls) -> None:
        d = Daemon({"fx": {"dim": "8"}})
        d.config_path.write_text(d.config_path.read_text().replace("    default: true\n", "")
                                 + f"  - name: minilm\n    plugin: {_text_plugin()}\n    model_dir: {_minilm_folder()}\n    default: true\n")
        cls.daemon = d.start(timeout=120)
        cls.gw = Gateway(d, "--no-auth").start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.gw.stop()
        cls.daemon.cleanup()

    @unittest.skipIf(openai is None, "the openai package is missing (tools/test-venv)")
    def test_usage_counts_the_models_tokens(self) -> None:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{self.gw.port}/v1", api_key="unused", max_retries=0)
        self.addCleanup(client.close)
        texts = ["How many tokens is this sentence?", "embedd answers OpenAI's API"]
        r = client.embeddings.create(model="minilm", input=texts, encoding_format="float")
        with self.daemon.client() as c:
            full = c.embed_full(texts, "minilm")
        self.assertEqual(f32([d.embedding for d in r.data]), rows(full.vectors))
        self.assertEqual(r.usage.prompt_tokens, full.total_tokens)
        self.assertEqual(r.usage.total_tokens, full.total_tokens)
        self.assertGreater(r.usage.prompt_tokens, 10)

    def test_tei_truncate_false_refuses_long_input_with_413(self) -> None:
        long_text = "word " * 1000
        status, _, body = self.gw.request("POST", "/embed", {"inputs": long_text, "truncate": False}, key=None)
        self.assertEqual(status, 413, body)
        self.assertEqual(json.loads(body)["error_type"], "Validation")
        status, _, body = self.gw.request("POST", "/embed", {"inputs": long_text, "truncate": True}, key=None)
        self.assertEqual(status, 200, body)
        status, _, body = self.gw.request("POST", "/embed", {"inputs": "x", "normalize": False}, key=None)
        self.assertEqual(status, 400, body)  # MiniLM always normalizes


if __name__ == "__main__":
    unittest.main()
