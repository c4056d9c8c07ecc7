"""The typed client: ``Client(socket_path).embed(...)``, admin calls, and the vector store."""

from __future__ import annotations

import mimetypes
import os
import threading
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Type, TypeVar, Union

from . import messages as m
from ._connection import Connection, default_socket_path
from ._proto import DecodeError, Message
from .errors import InvalidArgumentError, ProtocolError, StatusCode

try:  # NumPy is optional: arrays are returned (and accepted) when it is installed.
    import numpy as _np  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    _np = None

__all__ = ["Client", "File", "EmbedResult", "InputLike", "Vectors", "HAS_NUMPY"]

#: Whether NumPy could be imported (then vectors come back as ``numpy.ndarray``).
HAS_NUMPY = _np is not None

R = TypeVar("R", bound=Message)

#: What :meth:`Client.embed` returns: an ``(n, dim)`` float32 NumPy array, or a list of rows.
Vectors = Any


@dataclass(frozen=True)
class File:
    """A file to embed: the client reads it and sends its bytes (the daemon never opens paths
    that clients name). ``mime_type=None`` guesses from the file name; "" lets the plugin sniff."""
    path: Union[str, "os.PathLike[str]"]
    mime_type: Optional[str] = None


#: One input to :meth:`Client.embed`: a ``str`` is text; ``bytes`` are encoded media for the
#: plugin to sniff; a ``pathlib.Path`` / :class:`File` is read by the client; ``Media``,
#: ``Pixels``, ``Audio`` and ``Input`` messages are sent as they are.
InputLike = Union[str, bytes, bytearray, memoryview, "os.PathLike[str]", File, m.Media, m.Pixels, m.Audio, m.Input]


@dataclass
class EmbedResult:
    """Everything an Embed call returns."""
    vectors: Vectors
    model: str
    dim: int
    model_version: str
    generation: int


def to_input(item: InputLike, index: int = 0) -> m.Input:
    """Converts one :data:`InputLike` to an ``Input`` message; raises InvalidArgumentError
    (naming ``index``) for anything else."""
    if isinstance(item, str):
        return m.Input(text=item)
    if isinstance(item, (bytes, bytearray, memoryview)):
        return m.Input(media=m.Media(data=bytes(item)))
    if isinstance(item, m.Input):
        return item
    if isinstance(item, m.Media):
        return m.Input(media=item)
    if isinstance(item, m.Pixels):
        return m.Input(pixels=item)
    if isinstance(item, m.Audio):
        return m.Input(audio=item)
    if isinstance(item, File) or isinstance(item, os.PathLike):
        path = os.fspath(item.path if isinstance(item, File) else item)
        mime = item.mime_type if isinstance(item, File) else None
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                       f"input {index}: cannot read {path}: {e.strerror or e}") from None
        if mime is None:
            mime = mimetypes.guess_type(path)[0] or ""
        return m.Input(media=m.Media(data=data, mime_type=mime))
    raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                               f"input {index}: cannot embed a {type(item).__name__} (pass str for text, bytes "
                               f"or a pathlib.Path / embedd.File for media, or an embedd Media/Pixels/Audio)")


def _vectors_out(rows: Sequence[Any], dim: int, as_numpy: bool) -> Vectors:
    """Rows of ``array('f')`` → an ``(n, dim)`` float32 array (NumPy) or a list of lists."""
    if as_numpy and _np is not None:
        if not rows:
            return _np.zeros((0, dim), dtype=_np.float32)
        flat = _np.frombuffer(b"".join(r.tobytes() if hasattr(r, "tobytes") else _np.asarray(r, _np.float32).tobytes()
                                       for r in rows), dtype=_np.float32)
        return flat.reshape(len(rows), -1)
    return [list(r) for r in rows]


class Client:
    """A thread-safe client of the embedd daemon over its Unix socket.

    One client holds one connection (opened on first use, reopened after the daemon closes
    it); any number of threads may call it at once, and their calls are in flight together.
    Every method takes ``timeout`` (seconds, the call's deadline; default: the client's
    ``timeout``, else the daemon's default). Failures raise :class:`embedd.EmbeddError`
    subclasses carrying the gRPC status code and the daemon's message.

    >>> with Client() as c:                        # $EMBEDD_SOCKET or /run/embedd/embedd.sock
    ...     v = c.embed(["a sentence", "another one"])   # (2, dim) float32
    """

    def __init__(self, socket_path: Optional[str] = None, *, timeout: Optional[float] = None,
                 client_name: str = "embedd-python/0.1", numpy: Optional[bool] = None,
                 connect_timeout: float = 10.0, embed_batch: int = 256) -> None:
        """
        :param socket_path: the daemon's socket; default ``$EMBEDD_SOCKET``, else
            ``/run/embedd/embedd.sock``.
        :param timeout: default deadline of every call, in seconds (None: the daemon's default).
        :param client_name: sent in the handshake (shows up in the daemon's debug log).
        :param numpy: return NumPy arrays (default: when NumPy is importable); False = lists.
        :param connect_timeout: seconds to wait for connect + handshake.
        :param embed_batch: :meth:`embed` splits larger input lists into calls of this many
            inputs, sent concurrently on the connection (the daemon's vectors do not depend on
            how inputs are batched).
        """
        if numpy and _np is None:
            raise ImportError("numpy=True but NumPy is not installed")
        if embed_batch < 1:
            raise ValueError("embed_batch must be at least 1")
        self.socket_path = socket_path or default_socket_path()
        self.timeout = timeout
        self.client_name = client_name
        self.numpy = (_np is not None) if numpy is None else numpy
        self.connect_timeout = connect_timeout
        self.embed_batch = embed_batch
        self._lock = threading.Lock()
        self._conn: Optional[Connection] = None

    # ------------------------------------------------------------------ connection

    def connect(self) -> "Client":
        """Opens the connection now (otherwise the first call does); returns self."""
        self._connection()
        return self

    def close(self) -> None:
        """Closes the connection; calls in flight fail with UNAVAILABLE."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def server_hello(self) -> m.HelloReply:
        """The daemon's handshake reply: its version and the connection's limits."""
        return self._connection().hello

    def _connection(self) -> Connection:
        with self._lock:
            conn = self._conn
            if conn is not None and conn.pid != os.getpid():
                # Inherited through fork(): the parent owns that socket's stream. Leave it to
                # the parent (closing our copy of the descriptor only) and open our own.
                conn.forget()
                conn = None
            if conn is None or conn.idle_and_stale():
                if conn is not None:
                    conn.close()
                conn = Connection(self.socket_path, self.client_name, self.connect_timeout)
                self._conn = conn
            return conn

    def call(self, method: str, request: Message, *, timeout: Optional[float] = None) -> Message:
        """Calls an rpc of :data:`embedd.messages.METHODS` by name with a request message and
        returns the decoded response (the typed methods below are built on this)."""
        try:
            method_id, request_type, response_type = m.METHODS[method]
        except KeyError:
            raise ValueError(f"unknown method {method!r} (known: {', '.join(m.METHODS)})") from None
        if not isinstance(request, request_type):
            raise TypeError(f"{method} takes a {request_type.__name__}, not a {type(request).__name__}")
        return self._call(method, request, response_type, timeout)

    def _call(self, method: str, request: Message, response_type: Type[R], timeout: Optional[float]) -> R:
        payload = request.encode()
        method_id = m.METHODS[method][0]
        t = self.timeout if timeout is None else timeout
        conn = self._connection()
        reply = conn.call(method_id, method, payload, t)
        try:
            return response_type.decode(reply)
        except DecodeError as e:
            raise ProtocolError(f"cannot decode {response_type.__name__}: {e}", method) from None

    # ------------------------------------------------------------------ read-only methods

    def health(self, *, timeout: Optional[float] = None) -> m.HealthResponse:
        """Whether the daemon is serving (``.status`` is a :class:`ServingStatus`)."""
        return self._call("Health", m.HealthRequest(), m.HealthResponse, timeout)

    def status(self, *, timeout: Optional[float] = None) -> m.StatusResponse:
        """Version, pid, uptime, counters, models and plugins."""
        return self._call("Status", m.StatusRequest(), m.StatusResponse, timeout)

    def models(self, *, timeout: Optional[float] = None) -> List[m.ModelInfo]:
        """Every configured model with its state, dimension, space and limits."""
        return self._call("ListModels", m.ListModelsRequest(), m.ListModelsResponse, timeout).models

    def plugins(self, *, timeout: Optional[float] = None) -> List[m.PluginInfo]:
        """Every loaded plugin library."""
        return self._call("ListPlugins", m.ListPluginsRequest(), m.ListPluginsResponse, timeout).plugins

    # ------------------------------------------------------------------ embed

    def embed(self, inputs: Union[InputLike, Iterable[InputLike]], model: Optional[str] = None, *,
              timeout: Optional[float] = None) -> Vectors:
        """Embeds texts and/or media; returns one row per input, in input order.

        ``inputs`` is one :data:`InputLike` or an iterable of them (a single ``str`` is one
        text, never a sequence of characters). The result is an ``(n, dim)`` float32 NumPy
        array when NumPy is available (and ``numpy`` was not set False), else a list of
        lists of floats. ``model=None`` uses the daemon's default model.

        Raises InvalidArgumentError / OutOfRangeError naming the bad input's index,
        NotFoundError for an unknown model, ResourceExhaustedError when the daemon sheds load.
        """
        return self.embed_full(inputs, model, timeout=timeout).vectors

    def embed_full(self, inputs: Union[InputLike, Iterable[InputLike]], model: Optional[str] = None, *,
                   timeout: Optional[float] = None) -> EmbedResult:
        """Like :meth:`embed`, also returning the model name, dimension, version and generation."""
        items = self._input_list(inputs)
        if not items:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, "embed needs at least one input", "Embed")
        chunks = [items[i:i + self.embed_batch] for i in range(0, len(items), self.embed_batch)]
        if len(chunks) == 1:
            responses = [self._embed_call(chunks[0], model or "", timeout)]
        else:
            responses = self._parallel(lambda c: self._embed_call(c, model or "", timeout), chunks)
        rows: List[Any] = []
        for r in responses:
            rows.extend(v.values for v in r.vectors)
        first = responses[0]
        if len(rows) != len(items):
            raise ProtocolError(f"the daemon returned {len(rows)} vectors for {len(items)} inputs", "Embed")
        return EmbedResult(vectors=_vectors_out(rows, first.dim, self.numpy), model=first.model, dim=first.dim,
                           model_version=first.model_version, generation=first.generation)

    def _embed_call(self, chunk: List[m.Input], model: str, timeout: Optional[float]) -> m.EmbedResponse:
        return self._call("Embed", m.EmbedRequest(model=model, inputs=chunk), m.EmbedResponse, timeout)

    @staticmethod
    def _input_list(inputs: Union[InputLike, Iterable[InputLike]]) -> List[m.Input]:
        single = (str, bytes, bytearray, memoryview, os.PathLike, File, m.Media, m.Pixels, m.Audio, m.Input)
        seq: List[Any] = [inputs] if isinstance(inputs, single) else list(inputs)
        return [to_input(x, i) for i, x in enumerate(seq)]

    def _parallel(self, fn: Any, chunks: List[Any]) -> List[Any]:
        """Runs ``fn`` on every chunk with the calls in flight together; re-raises the first
        failure (in chunk order) after all have finished."""
        results: List[Any] = [None] * len(chunks)
        errors: List[Optional[BaseException]] = [None] * len(chunks)

        def run(i: int) -> None:
            try:
                results[i] = fn(chunks[i])
            except BaseException as e:  # re-raised in the caller's thread below
                errors[i] = e

        width = min(len(chunks), 8)
        threads: List[threading.Thread] = []
        next_index = [0]
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    i = next_index[0]
                    next_index[0] += 1
                if i >= len(chunks):
                    return
                run(i)

        for _ in range(width - 1):
            t = threading.Thread(target=worker, daemon=True)
            t.start()
            threads.append(t)
        worker()
        for t in threads:
            t.join()
        for e in errors:
            if e is not None:
                raise e
        return results

    # ------------------------------------------------------------------ admin methods

    def load_plugin(self, path: str, *, timeout: Optional[float] = None) -> m.PluginInfo:
        """Loads a plugin library (admin). A relative path is resolved in the plugins directory."""
        r = self._call("LoadPlugin", m.LoadPluginRequest(path=path), m.LoadPluginResponse, timeout)
        return r.plugin or m.PluginInfo()

    def reload_plugin(self, plugin: str = "", *, path: str = "", model: str = "",
                      timeout: Optional[float] = None) -> List[m.ModelInfo]:
        """Hot-swaps every model of ``plugin`` (or only ``model``), optionally from another
        library ``path`` (admin). The old generation keeps serving until the new one is ready,
        and if loading fails."""
        return self._call("ReloadPlugin", m.ReloadPluginRequest(plugin=plugin, path=path, model=model),
                          m.ReloadPluginResponse, timeout).models

    def unload_model(self, name: str, *, timeout: Optional[float] = None) -> m.ModelInfo:
        """Unloads a model after its calls drain (admin)."""
        r = self._call("UnloadModel", m.UnloadModelRequest(name=name), m.UnloadModelResponse, timeout)
        return r.model or m.ModelInfo(name=name)

    def load_model(self, name: str, plugin: str, model_dir: str = "", options: Optional[Dict[str, Any]] = None, *,
                   timeout: Optional[float] = None) -> m.ModelInfo:
        """Loads a model with a plugin (admin). ``options`` values are sent as strings."""
        opts = {str(k): str(v) for k, v in (options or {}).items()}
        r = self._call("LoadModel", m.LoadModelRequest(name=name, plugin=plugin, model_dir=model_dir, options=opts),
                       m.LoadModelResponse, timeout)
        return r.model or m.ModelInfo(name=name)
