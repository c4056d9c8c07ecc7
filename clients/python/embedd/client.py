"""The typed client: ``Client(socket_path).embed(...)``, admin calls, and the vector store."""

from __future__ import annotations

import array
import copy
import json
import math
import mimetypes
import os
import threading
from dataclasses import dataclass, field as dataclass_field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Type, TypeVar, Union

from . import messages as m
from ._connection import Connection, NotSentError, default_socket_path
from ._frame import MAX_DESCRIPTORS_PER_CALL as MAX_DESCRIPTORS
from ._proto import DecodeError, Message
from .errors import EmbeddError, InvalidArgumentError, NotFoundError, ProtocolError, StatusCode, UnimplementedError

try:  # NumPy is optional: arrays are returned (and accepted) when it is installed.
    import numpy as _np  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    _np = None

__all__ = ["Client", "File", "EmbedResult", "InputLike", "Vectors", "HAS_NUMPY", "Hit", "Record", "UpsertSummary",
           "UpsertError", "MetadataLike"]

#: Whether NumPy could be imported (then vectors come back as ``numpy.ndarray``).
HAS_NUMPY = _np is not None

R = TypeVar("R", bound=Message)

#: What :meth:`Client.embed` returns: an ``(n, dim)`` float32 NumPy array, or a list of rows.
Vectors = Any


@dataclass(frozen=True)
class File:
    """A file to embed. The daemon never opens paths that clients name: by default the client
    reads the file and sends its bytes; with ``send_fd=True`` it opens the file and passes the
    open descriptor (SCM_RIGHTS) instead, so a large file is not copied through the socket and
    the daemon reads only what this process could open.

    ``mime_type=None`` guesses from the file name; "" lets the plugin sniff (with ``send_fd``,
    "" means text for text-only models); a ``text/...`` type is read as UTF-8 text.
    """
    path: Union[str, "os.PathLike[str]"]
    mime_type: Optional[str] = None
    send_fd: bool = False


@dataclass
class _FdInput(m.Input):
    """An Input whose file travels as a descriptor: opened when its request is sent."""
    path: str = ""


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
    #: ``usage[i]`` counts ``inputs[i]``'s tokens (``tokens``, ``used``, ``truncated``,
    #: ``chunks``); empty when the model counts none (not a text model).
    usage: List[m.InputUsage] = dataclass_field(default_factory=list)
    #: the sum of ``usage[].tokens`` (OpenAI's ``usage.prompt_tokens``)
    total_tokens: int = 0
    #: with ``segments=True`` (audio and video models): ``segments[i]`` is ``inputs[i]``'s list
    #: of 30-s windows, each a :class:`Segment` (``start``, ``end`` in seconds, ``vector``)
    segments: List[List["Segment"]] = dataclass_field(default_factory=list)

    @property
    def truncated(self) -> List[int]:
        """Indices of the inputs the model cut to its token window."""
        return [i for i, u in enumerate(self.usage) if u.truncated]


def _truncation(truncate: Optional[bool]) -> int:
    """The wire ``Truncation`` for a ``truncate=`` argument (None: the model's setting)."""
    if truncate is None:
        return m.Truncation.TRUNCATION_DEFAULT
    return m.Truncation.TRUNCATION_ON if truncate else m.Truncation.TRUNCATION_OFF


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
    if isinstance(item, File) and item.send_fd:
        path = os.fspath(item.path)
        fd_mime = item.mime_type if item.mime_type is not None else (mimetypes.guess_type(path)[0] or "")
        return _FdInput(file=m.FileRef(index=0, mime_type=fd_mime, name=path), path=path)
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
        return m.Input(media=m.Media(data=data, mime_type=mime, name=path))
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
        method_id = m.METHODS[method][0]
        t = self.timeout if timeout is None else timeout
        fd_inputs = _fd_inputs(request)
        fds: List[int] = []
        try:
            for i, inp in enumerate(fd_inputs):
                try:
                    fds.append(os.open(inp.path, os.O_RDONLY | os.O_CLOEXEC))
                except OSError as e:
                    raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                               f"cannot open {inp.path}: {e.strerror or e}", method) from None
                assert inp.file is not None
                inp.file.index = i
            if len(fds) > MAX_DESCRIPTORS:
                raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                           f"{len(fds)} files passed as descriptors in one call; the limit is "
                                           f"{MAX_DESCRIPTORS}: send fewer per call", method)
            payload = request.encode()
            conn = self._connection()
            try:
                reply = conn.call(method_id, method, payload, t, fds)
            except NotSentError:
                # Another thread replaced this (idle) connection, or it broke, between our
                # getting it and sending: nothing was sent, so once more on a fresh one.
                reply = self._connection().call(method_id, method, payload, t, fds)
        finally:
            for fd in fds:
                os.close(fd)
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

    def metrics(self, *, timeout: Optional[float] = None) -> str:
        """The daemon's metrics in the Prometheus text exposition format (version 0.0.4), as the
        daemon wrote it (``prometheus_client.parser.text_string_to_metric_families`` reads it).
        Per-collection series cover only the collections this user may read. Protocol 1.3:
        older daemons raise :class:`embedd.errors.UnimplementedError`."""
        return self._call("Metrics", m.MetricsRequest(), m.MetricsResponse, timeout).text

    def models(self, *, timeout: Optional[float] = None) -> List[m.ModelInfo]:
        """Every configured model with its state, dimension, space and limits."""
        return self._call("ListModels", m.ListModelsRequest(), m.ListModelsResponse, timeout).models

    def plugins(self, *, timeout: Optional[float] = None) -> List[m.PluginInfo]:
        """Every loaded plugin library."""
        return self._call("ListPlugins", m.ListPluginsRequest(), m.ListPluginsResponse, timeout).plugins

    # ------------------------------------------------------------------ embed

    def embed(self, inputs: Union[InputLike, Iterable[InputLike]], model: Optional[str] = None, *,
              truncate: Optional[bool] = None, prompt: Optional[str] = None, timeout: Optional[float] = None) -> Vectors:
        """Embeds texts and/or media; returns one row per input, in input order.

        ``inputs`` is one :data:`InputLike` or an iterable of them (a single ``str`` is one
        text, never a sequence of characters). The result is an ``(n, dim)`` float32 NumPy
        array when NumPy is available (and ``numpy`` was not set False), else a list of
        lists of floats. ``model=None`` uses the daemon's default model.

        A text longer than the model's token window is cut to it (``truncate=None``: the
        model's ``truncate:`` setting, which cuts by default); ``truncate=False`` refuses it
        instead (InvalidArgumentError naming the input and its length, as TEI's
        ``truncate=false``), ``truncate=True`` cuts it even on a model set to refuse.
        :meth:`embed_full` says which inputs were cut.

        ``prompt`` names one of the model's sentence-transformers prompts (``ModelInfo.prompts``,
        from its folder's ``config_sentence_transformers.json``, e.g. e5's ``"query"``): its text
        is prepended to every text input, as ``SentenceTransformer.encode(prompt_name=...)``
        does, and its tokens count. ``None`` applies the model's ``default_prompt`` if it has
        one; ``"none"`` applies no prompt. Media inputs ignore prompts. An unknown name raises
        InvalidArgumentError naming the model's prompts.

        Raises InvalidArgumentError / OutOfRangeError naming the bad input's index,
        NotFoundError for an unknown model, ResourceExhaustedError when the daemon sheds load.
        """
        return self.embed_full(inputs, model, truncate=truncate, prompt=prompt, timeout=timeout).vectors

    def embed_full(self, inputs: Union[InputLike, Iterable[InputLike]], model: Optional[str] = None, *,
                   truncate: Optional[bool] = None, segments: bool = False, prompt: Optional[str] = None,
                   timeout: Optional[float] = None) -> EmbedResult:
        """Like :meth:`embed`, also returning the model name, dimension, version, generation
        and per-input token counts (``usage``, ``total_tokens``, ``truncated``). With
        ``segments=True`` (audio and video models only) each input's 30-s windows come too, each
        with its own vector (``EmbedResult.segments``)."""
        items = self._input_list(inputs)
        if not items:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, "embed needs at least one input", "Embed")
        chunks = self._chunks(items, self.embed_batch, lambda x: x)
        mode = _truncation(truncate)
        if len(chunks) == 1:
            responses = [self._embed_call(chunks[0], model or "", mode, timeout, segments, prompt or "")]
        else:
            responses = self._parallel(lambda c: self._embed_call(c, model or "", mode, timeout, segments, prompt or ""), chunks)
        rows: List[Any] = []
        for r in responses:
            rows.extend(v.values for v in r.vectors)
        first = responses[0]
        if len(rows) != len(items):
            raise ProtocolError(f"the daemon returned {len(rows)} vectors for {len(items)} inputs", "Embed")
        usage: List[m.InputUsage] = []
        if any(r.usage for r in responses):
            for r, c in zip(responses, chunks):
                usage.extend(r.usage or [m.InputUsage() for _ in c])
        windows: List[List[Segment]] = []
        if segments:
            for r, c in zip(responses, chunks):
                lists = r.segments or [m.InputSegments() for _ in c]
                windows.extend([Segment(s.start, s.end, _vectors_out([s.values], first.dim, self.numpy)[0])
                                for s in one.segments] for one in lists)
        return EmbedResult(vectors=_vectors_out(rows, first.dim, self.numpy), model=first.model, dim=first.dim,
                           model_version=first.model_version, generation=first.generation,
                           usage=usage, total_tokens=sum(r.total_tokens for r in responses), segments=windows)

    def classify(self, image: InputLike, labels: Sequence[str], model: Optional[str] = None, *,
                 template: str = "This is a photo of {}.", scale: float = 100.0,
                 timeout: Optional[float] = None) -> List[Tuple[str, float]]:
        """CLIP's zero-shot classification: ranks ``labels`` for one picture, most likely first,
        as ``[(label, probability), ...]``.

        Each label is put into ``template`` ("{}" marks its place; transformers' pipeline
        default) and embedded by ``model`` together with ``image`` (any :data:`InputLike`:
        a ``pathlib.Path``, :class:`File`, ``Media`` or ``Pixels``); the model must take texts
        and pictures into one space (the clip plugin's models). Probabilities are the softmax
        over the labels of ``scale`` × cosine — 100 is the logit scale every released CLIP was
        trained to. ``embedctl classify`` computes the same.
        """
        if len(labels) < 2:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, "classify needs at least two labels", "Embed")
        if "{}" not in template:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, f"template must contain {{}} (got {template!r})", "Embed")
        sentences = [template.replace("{}", label) for label in labels]
        texts = self.embed_full(sentences, model, timeout=timeout).vectors
        picture = self.embed_full([image], model, timeout=timeout).vectors
        v = [float(x) for x in picture[0]]
        nv = math.sqrt(sum(x * x for x in v)) or 1e-30
        logits = []
        for row in texts:
            t = [float(x) for x in row]
            nt = math.sqrt(sum(x * x for x in t)) or 1e-30
            logits.append(scale * sum(a * b for a, b in zip(v, t)) / (nv * nt))
        top = max(logits)
        e = [math.exp(x - top) for x in logits]
        total = sum(e)
        ranked = sorted(zip(labels, (x / total for x in e)), key=lambda p: -p[1])
        return [(label, p) for label, p in ranked]

    def _embed_call(self, chunk: List[m.Input], model: str, truncation: int, timeout: Optional[float],
                    segments: bool = False, prompt: str = "") -> m.EmbedResponse:
        return self._call("Embed", m.EmbedRequest(model=model, inputs=chunk, truncation=truncation, segments=segments,
                                                  prompt=prompt),
                          m.EmbedResponse, timeout)

    @staticmethod
    def _input_list(inputs: Union[InputLike, Iterable[InputLike]]) -> List[m.Input]:
        seq: List[Any] = [inputs] if isinstance(inputs, _SINGLE_INPUTS) else list(inputs)
        return [to_input(x, i) for i, x in enumerate(seq)]

    def _max_inputs_per_call(self) -> int:
        """The daemon's ``limits.max_inputs_per_call``, from its HELLO reply (1024, the default,
        for a daemon too old to announce it)."""
        return self._connection().hello.max_inputs_per_call or 1024

    def _chunks(self, items: List[Any], batch: int, input_of: Any) -> List[List[Any]]:
        """Splits items into calls of at most ``batch`` items, at most MAX_DESCRIPTORS passed
        files and about half the daemon's max_frame_bytes of payload each (a single item larger
        than that still goes alone: the daemon then names the limit)."""
        budget: Optional[int] = None  # asked of the daemon only when a call grows past 32 KiB

        def over(total: int) -> bool:
            nonlocal budget
            if total <= 32 << 10:
                return False
            if budget is None:
                budget = max(1, (self._connection().hello.max_frame_bytes or 64 << 20) // 2)
            return total > budget

        if len(items) > 1:  # the daemon refuses more per call; one item needs no connection yet
            batch = min(batch, self._max_inputs_per_call())
        chunks: List[List[Any]] = []
        current: List[Any] = []
        size = fds = 0
        for item in items:
            inp = input_of(item)
            n_fds = 1 if isinstance(inp, _FdInput) else 0
            n_bytes = _approximate_bytes(item) + 16
            if current and (len(current) >= batch or fds + n_fds > MAX_DESCRIPTORS or over(size + n_bytes)):
                chunks.append(current)
                current, size, fds = [], 0, 0
            current.append(item)
            size += n_bytes
            fds += n_fds
        if current:
            chunks.append(current)
        return chunks

    def _parallel(self, fn: Any, chunks: List[Any], results: Optional[List[Any]] = None) -> List[Any]:
        """Runs ``fn`` on every chunk with the calls in flight together; re-raises the first
        failure (in chunk order) once the calls in flight have finished. After a failure (or
        Ctrl-C in the calling thread) no further chunk is sent. ``results`` (if given) receives
        each answered chunk's result at its index, also when a failure is raised."""
        if results is None:
            results = [None] * len(chunks)
        errors: List[Optional[BaseException]] = [None] * len(chunks)
        stop = threading.Event()

        def run(i: int) -> None:
            try:
                results[i] = fn(chunks[i])
            except Exception as e:  # re-raised in the caller's thread below
                errors[i] = e
                stop.set()
            except BaseException:  # KeyboardInterrupt, SystemExit: stop the others, propagate
                stop.set()
                raise

        width = min(len(chunks), 8)
        threads: List[threading.Thread] = []
        next_index = [0]
        lock = threading.Lock()

        def worker() -> None:
            while not stop.is_set():
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
        """Unloads a model after its calls drain (admin), and removes its file from the daemon's
        ``DATA_DIR/models.d`` when it was loaded with :meth:`load_model`. A model of the
        configuration file loads again at the next start or reload. Returns the model as it was
        (``source`` says where it came from)."""
        r = self._call("UnloadModel", m.UnloadModelRequest(name=name), m.UnloadModelResponse, timeout)
        return r.model or m.ModelInfo(name=name)

    def load_model(self, name: str, plugin: str, model_dir: str = "", options: Optional[Dict[str, Any]] = None, *,
                   temporary: bool = False, timeout: Optional[float] = None) -> m.ModelInfo:
        """Loads a model with a plugin (admin) and waits until it is ready. ``model_dir``
        relative is inside the daemon's models_dir (default: ``name``); ``options`` values are
        sent as strings. The daemon keeps the model in ``DATA_DIR/models.d/NAME.yaml`` and loads
        it again at every start until :meth:`unload_model`; ``temporary=True`` keeps nothing."""
        opts = {str(k): str(v) for k, v in (options or {}).items()}
        r = self._call("LoadModel", m.LoadModelRequest(name=name, plugin=plugin, model_dir=model_dir, options=opts,
                                                       temporary=temporary),
                       m.LoadModelResponse, timeout)
        return r.model or m.ModelInfo(name=name)

    # ------------------------------------------------------------------ vector store

    def create_collection(self, name: str, *, model: Optional[str] = None, dim: Optional[int] = None,
                          metric: Optional[str] = None, hnsw_m: int = 0, hnsw_ef_construction: int = 0,
                          hnsw_ef: int = 0, acl: Optional[m.CollectionAcl] = None, exist_ok: bool = False,
                          storage: str = "", documents: bool = True, add_prompt: str = "", query_prompt: str = "",
                          timeout: Optional[float] = None) -> m.CollectionInfo:
        """Creates a collection bound to a ``model`` (dimension, metric and embedding space come
        from the model; texts and files are embedded with it) or to a raw dimension ``dim``
        (bring your own vectors). ``metric``: "cosine", "l2" or "ip". ``acl`` grants read/write
        to other uids/gids (the creator owns the collection). ``exist_ok``: an existing
        collection with the same binding is not an error (AlreadyExistsError otherwise).
        ``storage``: "f32" (default, exact), "f16" (half the memory) or "int8" (a quarter;
        scores and ``get`` use the rounded vector) — see docs/storage.md. ``documents=False``:
        the daemon records no document (source text, file name and type) for embedded items;
        documents passed explicitly to :meth:`upsert` are still kept.

        ``add_prompt`` / ``query_prompt`` name prompts of the model (``ModelInfo.prompts``) that
        :meth:`upsert` applies to texts and :meth:`search` to text queries when the call names
        none (e5: ``add_prompt="passage", query_prompt="query"``); empty: the model's default
        prompt; ``"none"``: no prompt. Shown as ``CollectionInfo.add_prompt`` / ``query_prompt``."""
        req = m.CreateCollectionRequest(name=name, model=model or "", dimension=dim or 0, metric=metric or "",
                                        storage=storage, hnsw_m=hnsw_m, hnsw_ef_construction=hnsw_ef_construction,
                                        hnsw_ef=hnsw_ef, acl=acl, exist_ok=exist_ok, no_documents=not documents,
                                        add_prompt=add_prompt, query_prompt=query_prompt)
        r = self._call("CreateCollection", req, m.CreateCollectionResponse, timeout)
        return r.collection or m.CollectionInfo(name=name)

    def drop_collection(self, name: str, *, timeout: Optional[float] = None) -> None:
        """Deletes a collection and its files (needs write permission). NotFoundError if absent."""
        self._call("DropCollection", m.DropCollectionRequest(name=name), m.DropCollectionResponse, timeout)

    def list_collections(self, *, timeout: Optional[float] = None) -> List[m.CollectionInfo]:
        """Every collection, with the caller's permissions (``can_read``, ``can_write``)."""
        return self._call("ListCollections", m.ListCollectionsRequest(), m.ListCollectionsResponse, timeout).collections

    def describe_collection(self, name: str, *, timeout: Optional[float] = None) -> m.CollectionInfo:
        """One collection's binding, ACL and store statistics."""
        r = self._call("DescribeCollection", m.DescribeCollectionRequest(name=name), m.DescribeCollectionResponse, timeout)
        return r.collection or m.CollectionInfo(name=name)

    def optimize_collection(self, name: str, *, timeout: Optional[float] = None) -> m.CollectionInfo:
        """Compacts a collection now (write permission; daemons speaking protocol 1.1+): waits
        until every record is linked into the graph, drops deleted records and renumbers the
        rest in graph order (faster searches after a bulk load). Writers wait during the copy,
        searches do not. Returns the collection's description afterwards."""
        hello = self._connection().hello
        if (hello.major, hello.minor) < (1, 1):
            raise UnimplementedError(StatusCode.UNIMPLEMENTED,
                                     f"OptimizeCollection needs protocol 1.1; the daemon speaks {hello.major}.{hello.minor}",
                                     "OptimizeCollection")
        r = self._call("OptimizeCollection", m.OptimizeCollectionRequest(name=name), m.OptimizeCollectionResponse, timeout)
        return r.collection or m.CollectionInfo(name=name)

    def upsert(self, collection: str, keys: Union[str, Sequence[str]],
               inputs: Union[InputLike, Sequence[InputLike], None] = None, *,
               texts: Union[str, Sequence[str], None] = None, vectors: Any = None,
               metadata: Union[MetadataLike, Sequence[MetadataLike], None] = None, skip_existing: bool = False,
               model: Optional[str] = None, batch: int = 256, check: bool = True,
               truncate: Optional[bool] = None, segments: bool = False,
               sound_collection: str = "", documents: Union[DocumentLike, Sequence[DocumentLike], None] = None,
               prompt: Optional[str] = None,
               timeout: Optional[float] = None) -> "UpsertSummary":
        """Stores records: ``keys[i]`` gets ``inputs[i]`` (texts, files, media — embedded by the
        daemon with the collection's model) or ``vectors[i]`` (a list of floats per key, or an
        ``(n, dim)`` NumPy array), and ``metadata[i]`` (a dict, a JSON object string, or None).

        One key may be given as a plain string with one input / one vector / one dict.
        ``skip_existing`` leaves keys already stored alone (resuming a bulk load). Records are
        durable when this returns. Lists longer than ``batch`` go in several concurrent calls.

        Each item succeeds or fails alone: a bad item (a vector of the wrong dimension, NaN, an
        empty key, an unreadable file, metadata that is not a JSON object, a text the model
        refuses) gets a ``UPSERT_FAILED`` result naming its problem, and the other items are
        stored. Returns an :class:`UpsertSummary` (counts, one result per item in item order).
        With ``check`` (default), if any item failed, :class:`UpsertError` is raised *after*
        the good items are stored, carrying the summary as ``.summary``; its message says how
        many failed and why the first ones did. With ``check=False`` the summary is returned.
        Problems of the call as a whole (as many keys as values, one metadata entry per key,
        inputs and vectors both or neither) raise InvalidArgumentError before anything is sent.

        ``segments=True`` (audio and video collections): the daemon also stores each
        recording's 30-s windows as ``KEY#t=START,END`` records (metadata ``start``, ``end``,
        ``segment_of``; ``KEY``'s metadata lists them under ``segments``), in the same durable
        write; replacing or deleting ``KEY`` later replaces or deletes them.

        Videos (``File("clip.mp4")``) in a collection bound to CLIP go to the video model of its
        space (docs/video.md). A video model with an audio model also stores each video's sound
        vector in ``sound_collection`` (default ``COLLECTION.sound``, created on first use) under
        the same key: each result's ``sound`` says ``SOUND_STORED`` (and ``sound_collection``),
        ``SOUND_ABSENT`` (no sound track; not a failure) or ``SOUND_FAILED`` (``sound_error``).
        Long videos take a while: pass a ``timeout`` (seconds) that covers them.

        Each record keeps a **document**, returned by :meth:`get`, :meth:`search` and
        :meth:`scan`: the daemon records ``{"text": ...}`` for a text and ``{"name", "mime_type",
        "bytes"}`` for a file (unless the collection was created with ``documents=False``).
        ``documents[i]`` (a ``str``, stored as ``{"text": str}``, or a dict stored as is, or
        None) replaces it, also for ``vectors`` — as Chroma's ``add(documents=, embeddings=)``.

        ``prompt`` names the model prompt prepended to text items (as in :meth:`embed`); ``None``
        uses the collection's ``add_prompt``, else the model's default prompt.
        """
        if texts is not None:
            if inputs is not None:
                raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, "pass inputs or texts, not both", "Upsert")
            inputs = texts
        if batch < 1:
            raise ValueError("batch must be at least 1")
        single = isinstance(keys, str)
        key_list: List[Any] = [keys] if isinstance(keys, str) else list(keys)
        n = len(key_list)
        if (inputs is None) == (vectors is None):
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                       "upsert needs either inputs (texts, files, media) or vectors", "Upsert")
        # What concerns the call as a whole (how many values, how many metadata entries) raises
        # at once. What concerns one item is settled per item, as the daemon settles it: the
        # item gets a FAILED result naming its problem, the others are sent and stored. The
        # client checks locally what it must (it cannot encode a key that is not UTF-8, a
        # metadata dict that is not JSON, a file it cannot read) and what the daemon would
        # refuse for the whole call rather than for the one item (a vector of the wrong
        # dimension: the daemon refuses the call holding it, so the client asks
        # DescribeCollection for the dimension once, as embedctl add does); everything else (empty
        # keys, NaN, zero vectors under cosine, metadata that is not a JSON object, texts the
        # model refuses) it leaves to the daemon, which answers per item.
        in_list: List[Any] = []
        rows: List[Any] = []
        if inputs is not None:
            in_list = [inputs] if single or isinstance(inputs, _SINGLE_INPUTS) else list(inputs)
            got = len(in_list)
        else:
            rows = _vector_rows(vectors, single)
            got = len(rows)
        if got != n:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                       f"{n} keys but {got} {'inputs' if inputs is not None else 'vectors'}", "Upsert")
        doc_any: Any = [None] * n
        if documents is not None:
            doc_any = [documents] if (single or isinstance(documents, (dict, str))) and n == 1 else documents
            if isinstance(doc_any, (dict, str)) or len(doc_any) != n:
                raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                           f"documents must be one entry per key ({n} keys)", "Upsert")
        meta_any: Any = [None] * n
        if metadata is not None:
            meta_any = [metadata] if (single or isinstance(metadata, (dict, str))) and n == 1 else metadata
            if isinstance(meta_any, (dict, str)) or len(meta_any) != n:
                raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                           f"metadata must be one entry per key ({n} keys)", "Upsert")
        if n == 0:
            return UpsertSummary(0, 0, 0, [])
        dim: Optional[int] = None
        owner = ""
        if vectors is not None:
            dim, owner = self._collection_dimension(collection, timeout)
        problems: Dict[int, str] = {}
        items: List[m.UpsertItem] = []
        positions: List[int] = []  # item index of each sent item
        for i, key in enumerate(key_list):
            try:
                _check_key(key)
                if inputs is not None:
                    item = m.UpsertItem(key=key, input=_upsert_input(in_list[i], i))
                else:
                    values = _vector_values(rows[i], f"vector {i}")
                    if dim is not None and len(values) != dim:
                        raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                                   f"the vector has {len(values)} components; collection "
                                                   f"{collection!r} holds {dim}-dimensional vectors{owner}", "Upsert")
                    item = m.UpsertItem(key=key, vector=m.Vector(values=values))
                item.metadata = _metadata_json(meta_any[i], i)
                item.document = _document_json(doc_any[i], i)
            except InvalidArgumentError as e:
                problems[i] = e.message
                continue
            items.append(item)
            positions.append(i)
        local = {i: m.UpsertResult(key=key_list[i], outcome=m.UpsertOutcome.UPSERT_FAILED, error=why)
                 for i, why in problems.items()}
        chunks = self._chunks(items, batch, lambda item: item.input)
        sent = 0
        chunk_positions: List[List[int]] = []
        for c in chunks:
            chunk_positions.append(positions[sent:sent + len(c)])
            sent += len(c)

        def send(chunk: List[m.UpsertItem]) -> m.UpsertResponse:
            req = m.UpsertRequest(collection=collection, items=chunk, skip_existing=skip_existing, model=model or "",
                                  truncation=_truncation(truncate), segments=segments,
                                  sound_collection=sound_collection, prompt=prompt or "")
            return self._call("Upsert", req, m.UpsertResponse, timeout)

        # A key given twice must end with its last value: chunks holding repeats go in order.
        in_order = len(chunks) <= 1 or len(set(map(str, key_list))) < len(key_list)
        answered: List[Optional[m.UpsertResponse]] = [None] * len(chunks)
        try:
            if in_order:
                for i, c in enumerate(chunks):
                    answered[i] = send(c)
            else:
                self._parallel(send, chunks, answered)
        except EmbeddError as e:
            # Earlier chunks may be stored: say which items are settled and which are not — on
            # a copy, since a broken connection hands one error object to every call on it.
            err = copy.copy(e)
            err.partial = _summary(answered, chunk_positions, local)
            err.unconfirmed_keys = [item.key for c, r in zip(chunks, answered) if r is None for item in c]
            raise err.with_traceback(e.__traceback__) from None
        summary = _summary(answered, chunk_positions, local)
        if check and summary.failed:
            bad = [r for r in summary.results if r.outcome == m.UpsertOutcome.UPSERT_FAILED]
            shown = "; ".join(f"key {r.key!r}: {r.error}" for r in bad[:3])
            more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
            raise UpsertError(f"{summary.failed} of {n} items were not stored ({summary.stored} stored, "
                              f"{summary.skipped} skipped): {shown}{more}", summary)
        return summary

    def _collection_dimension(self, collection: str, timeout: Optional[float]) -> Tuple[Optional[int], str]:
        """The collection's dimension and " of model 'x'" (or ""), to fail a vector of another
        length alone. (None, "") when DescribeCollection fails (an unknown collection, no read
        permission): then the Upsert call itself reports what is wrong."""
        try:
            info = self.describe_collection(collection, timeout=timeout)
        except EmbeddError:
            return None, ""
        return (info.dimension or None), (f" of model {info.model!r}" if info.model else "")

    def search(self, collection: str, query: Any = None, *, text: Optional[str] = None,
               input: Optional[InputLike] = None, vector: Any = None, vectors: Any = None,
               queries: Optional[Sequence[Any]] = None, k: int = 10, ef: int = 0,
               filter: Union[Dict[str, Any], str, None] = None, model: Optional[str] = None,
               truncate: Optional[bool] = None, prompt: Optional[str] = None,
               timeout: Optional[float] = None) -> Any:
        """Nearest neighbours, best first.

        One query — ``query`` (a str is text; a list of floats / 1-D array is a vector; else an
        input), ``text=``, ``input=`` (a file, media, …, embedded with the collection's model)
        or ``vector=`` — returns a list of :class:`Hit`. Many queries — ``vectors=`` (an
        ``(n, dim)`` array or list of vectors) or ``queries=`` (a list of texts/inputs/vectors)
        — return one list of hits per query, in query order.

        ``filter`` is a dict (or JSON string) on metadata, in the daemon's filter language
        (docs/operations.md, "Filters"): ``{"lang": "en"}`` (equality), ``{"year": [2023, 2024]}``
        (any of), operators ``$eq $ne $gt $gte $lt $lte $in $nin $exists $contains $not`` as in
        ``{"year": {"$gte": 2020}, "tags": {"$contains": "go"}}``, ``$and``/``$or``/``$not`` at any
        level and dotted paths into nested objects; every member must hold. It is sent as
        written: a mistake raises InvalidArgumentError with the daemon's message, which names the
        problem and its byte offset in the JSON text (``json.dumps`` of the dict, compact).
        A model whose embedding space differs from the collection's is refused
        (InvalidArgumentError naming the collection's model).

        ``Hit.score`` is in the collection's metric's natural form (hits always come best
        first): ``cosine`` — cosine similarity in [-1, 1], **higher is closer**; ``l2`` —
        Euclidean distance (not squared), **lower is closer**; ``ip`` — the dot product,
        **higher is closer**. :meth:`query` also gives Chroma-style distances (lower = closer).

        ``prompt`` names the model prompt prepended to text queries (as in :meth:`embed`);
        ``None`` uses the collection's ``query_prompt``, else the model's default prompt.
        """
        out, _metric, many = self._search(collection, query, text, input, vector, vectors, queries, k, ef, filter,
                                          model, timeout, truncate, prompt)
        return out if many else out[0]

    def _search(self, collection: str, query: Any, text: Optional[str], input: Optional[InputLike], vector: Any,
                vectors: Any, queries: Optional[Sequence[Any]], k: int, ef: int,
                filter: Union[Dict[str, Any], str, None], model: Optional[str],
                timeout: Optional[float], truncate: Optional[bool] = None,
                prompt: Optional[str] = None) -> Tuple[List[List["Hit"]], str, bool]:
        """:meth:`search`'s work: the hits per query, the collection's metric (as the daemon
        answered it) and whether many queries were asked."""
        given = [x for x in (query, text, input, vector, vectors, queries) if x is not None]
        if len(given) != 1:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                       "search needs exactly one of query, text, input, vector, vectors or queries", "Search")
        many = vectors is not None or queries is not None
        if text is not None:
            qs = [m.SearchQuery(input=m.Input(text=text))]
        elif input is not None:
            qs = [m.SearchQuery(input=to_input(input))]
        elif vector is not None:
            rows = _vector_rows(vector, True)
            if len(rows) != 1:
                raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                           f"vector= takes one vector, got {len(rows)} (use vectors= for many)", "Search")
            qs = [m.SearchQuery(vector=m.Vector(values=_vector_values(rows[0], "vector=")))]
        elif vectors is not None:
            qs = [m.SearchQuery(vector=m.Vector(values=_vector_values(r, f"query {i}")))
                  for i, r in enumerate(_vector_rows(vectors, False))]
        else:
            items = [query] if query is not None else list(queries or [])
            qs = [_search_query(x, i) for i, x in enumerate(items)]
        if not qs:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, "search needs at least one query", "Search")
        if isinstance(filter, dict):
            filter = json.dumps(filter, separators=(",", ":"), ensure_ascii=False)
        req = m.SearchRequest(collection=collection, queries=qs, k=k, ef=ef, filter=filter or "", model=model or "",
                              truncation=_truncation(truncate), prompt=prompt or "")
        r = self._call("Search", req, m.SearchResponse, timeout)
        if len(r.results) != len(qs):
            raise ProtocolError(f"the daemon answered {len(r.results)} results for {len(qs)} queries", "Search")
        out = [[Hit(h.key, h.score, _parse_metadata(h.metadata), _parse_metadata(h.document)) for h in res.hits]
               for res in r.results]
        return out, r.metric, many

    def get(self, collection: str, key: Optional[str] = None, *, ids: Optional[Sequence[str]] = None,
            timeout: Optional[float] = None) -> Any:
        """One record by key (NotFoundError when absent): a :class:`Record` with its vector,
        metadata and document.

        Chroma's shape: ``get(collection, ids=[...])`` returns ``{"ids": [...], "embeddings":
        [...], "metadatas": [...], "documents": [...]}`` for the ids that exist (a document is
        its text, or None), in the order asked (absent ids are
        left out, as Chroma does; one Get call per id, several in flight together).
        """
        if ids is not None:
            if key is not None:
                raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, "pass key or ids=, not both", "Get")
            id_list = [ids] if isinstance(ids, str) else list(ids)

            def one(k: str) -> Optional[Record]:
                try:
                    return self.get(collection, k, timeout=timeout)
                except NotFoundError as e:
                    if "no record" in e.message:
                        return None
                    raise  # no such collection
            found = [r for r in (self._parallel(one, id_list) if id_list else []) if r is not None]
            return {"ids": [r.key for r in found], "embeddings": [r.vector for r in found],
                    "metadatas": [r.metadata for r in found], "documents": [_document_text(r.document) for r in found]}
        if key is None:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, "get needs a key (or ids=[...])", "Get")
        r = self._call("Get", m.GetRequest(collection=collection, key=key), m.GetResponse, timeout)
        values: Any = r.vector.values if r.vector is not None else []
        if self.numpy and _np is not None:
            vec: Any = _np.asarray(values, dtype=_np.float32)
        else:
            vec = list(values)
        return Record(r.key or key, vec, _parse_metadata(r.metadata), _parse_metadata(r.document))

    def scan(self, collection: str, *, after: Optional[str] = None, limit: Optional[int] = None,
             filter: Union[Dict[str, Any], str, None] = None, vectors: bool = False, page_size: int = 1000,
             timeout: Optional[float] = None) -> Iterator["Record"]:
        """Every record (or the first ``limit``) in ascending byte order of its key, after
        ``after``, whose metadata matches ``filter`` (as :meth:`search`'s): :class:`Record` s
        with metadata and document, and vectors when ``vectors=True`` (else ``vector`` is
        None). Fetched in pages of ``page_size`` as the iterator advances (daemons of protocol
        1.2+), so exporting a large collection holds one page in memory. Records written while
        the scan runs appear if their key sorts after the current position."""
        hello = self._connection().hello
        if (hello.major, hello.minor) < (1, 2):
            raise UnimplementedError(StatusCode.UNIMPLEMENTED,
                                     f"Scan needs protocol 1.2; the daemon speaks {hello.major}.{hello.minor}", "Scan")
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        if isinstance(filter, dict):
            filter = json.dumps(filter, separators=(",", ":"), ensure_ascii=False)
        cursor = after or ""
        left = limit if limit is not None else -1
        while left != 0:
            size = page_size if left < 0 else min(page_size, left)
            r = self._call("Scan", m.ScanRequest(collection=collection, after=cursor, limit=size, filter=filter or "",
                                                 vectors=vectors), m.ScanResponse, timeout)
            for rec in r.records:
                vec: Any = None
                if vectors:
                    values = rec.vector.values if rec.vector is not None else []
                    vec = _np.asarray(values, dtype=_np.float32) if self.numpy and _np is not None else list(values)
                yield Record(rec.key, vec, _parse_metadata(rec.metadata), _parse_metadata(rec.document))
            if left > 0:
                left -= len(r.records)
            if not r.next_after:
                return
            cursor = r.next_after

    def keys(self, collection: str, *, after: Optional[str] = None, limit: Optional[int] = None,
             filter: Union[Dict[str, Any], str, None] = None, timeout: Optional[float] = None) -> Iterator[str]:
        """The keys of :meth:`scan`, in ascending byte order (``embedctl keys``)."""
        for r in self.scan(collection, after=after, limit=limit, filter=filter, page_size=10000, timeout=timeout):
            yield r.key

    def delete(self, collection: str, keys: Union[str, Sequence[str], None] = None, *,
               ids: Union[str, Sequence[str], None] = None, timeout: Optional[float] = None) -> int:
        """Deletes records by key (``ids=`` is the same, in Chroma's words); returns how many of
        the keys existed. Long lists are sent in calls of the daemon's
        ``limits.max_inputs_per_call`` keys (1024 by default); each call is durable when it returns, so an error
        part-way leaves the earlier calls' deletions done."""
        if (keys is None) == (ids is None):
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, "delete needs keys or ids= (one of them)", "Delete")
        keys = keys if keys is not None else ids
        assert keys is not None
        key_list = [keys] if isinstance(keys, str) else list(keys)
        deleted = 0
        per = self._max_inputs_per_call()
        for i in range(0, max(len(key_list), 1), per):
            chunk = key_list[i:i + per]
            deleted += self._call("Delete", m.DeleteRequest(collection=collection, keys=chunk), m.DeleteResponse, timeout).deleted
        return deleted

    # ------------------------------------------------------------------ Chroma-shaped calls

    def add(self, collection: str, *, ids: Union[str, Sequence[str]],
            documents: Union[InputLike, Sequence[InputLike], None] = None, embeddings: Any = None,
            metadatas: Union[MetadataLike, Sequence[MetadataLike], None] = None, skip_existing: bool = False,
            check: bool = True, timeout: Optional[float] = None) -> "UpsertSummary":
        """Chroma's ``collection.add(ids=, documents=, metadatas=, embeddings=)`` on
        :meth:`upsert`: ``documents`` are embedded by the daemon with the collection's model
        (texts, or any :data:`InputLike`), ``embeddings`` are stored as given (a list of vectors
        or an ``(n, dim)`` array); one of the two. Returns the :class:`UpsertSummary`; a bad item
        fails alone, as in :meth:`upsert` (``check``).

        With both ``documents`` and ``embeddings``, the vectors are stored and the documents
        (texts) kept beside them, as Chroma does. The documents come back from :meth:`get` and
        :meth:`query`. Difference from Chroma: an id already stored is replaced (Chroma's
        ``upsert``) unless ``skip_existing=True`` (then it is kept, as Chroma's ``add`` keeps it).
        """
        if documents is not None and embeddings is not None:
            docs = [documents] if isinstance(documents, str) else list(documents)  # type: ignore[arg-type]
            return self.upsert(collection, ids, vectors=embeddings, metadata=metadatas, documents=docs,
                               skip_existing=skip_existing, check=check, timeout=timeout)
        return self.upsert(collection, ids, documents, vectors=embeddings, metadata=metadatas,
                           skip_existing=skip_existing, check=check, timeout=timeout)

    def query(self, collection: str, *, query_texts: Union[InputLike, Sequence[InputLike], None] = None,
              query_embeddings: Any = None, n_results: int = 10,
              where: Union[Dict[str, Any], str, None] = None, ef: int = 0,
              timeout: Optional[float] = None) -> Dict[str, Any]:
        """Chroma's ``collection.query(query_texts=, query_embeddings=, n_results=, where=)`` on
        :meth:`search`. Returns one list per query, in query order, each best first::

            {"ids": [["k1", "k7"]], "distances": [[0.08, 0.31]], "scores": [[0.92, 0.69]],
             "metadatas": [[{...}, None]], "documents": [["a text", None]], "metric": "cosine"}

        ``scores`` are embedd's (see :meth:`search`: cosine similarity and dot product, higher
        is closer; l2 distance, lower is closer). ``distances`` are Chroma's, **lower is closer**
        for every metric: cosine ``1 - similarity``, l2 the *squared* Euclidean distance, ip
        ``1 - dot product`` — so thresholds carried over from Chroma keep their meaning.
        ``where`` is embedd's metadata filter (:meth:`search`'s ``filter``), which speaks
        Chroma's operators (``$eq $ne $gt $gte $lt $lte $in $nin $and $or``, and ``$contains``
        on array fields) with the same meaning, and more (``$not``, ``$exists``); it is passed
        through unchanged. ``documents`` are the stored texts (None for a record without one,
        e.g. a file: its name is in :meth:`search`'s ``Hit.document``).
        """
        if (query_texts is None) == (query_embeddings is None):
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                       "query needs query_texts or query_embeddings (one of them)", "Search")
        if query_texts is not None:
            texts = [query_texts] if isinstance(query_texts, _SINGLE_INPUTS) else list(query_texts)
            out, metric, _ = self._search(collection, None, None, None, None, None, texts, n_results, ef, where,
                                          None, timeout)
        else:
            out, metric, _ = self._search(collection, None, None, None, None, query_embeddings, None, n_results, ef,
                                          where, None, timeout)
        return {"ids": [[h.key for h in hits] for hits in out],
                "distances": [[_chroma_distance(h.score, metric) for h in hits] for hits in out],
                "scores": [[h.score for h in hits] for hits in out],
                "metadatas": [[h.metadata for h in hits] for hits in out],
                "documents": [[_document_text(h.document) for h in hits] for hits in out],
                "metric": metric}

    def count(self, collection: str, *, timeout: Optional[float] = None) -> int:
        """Live records in a collection."""
        return self._call("Count", m.CountRequest(collection=collection), m.CountResponse, timeout).count

    def stats(self, collection: Optional[str] = None, *, timeout: Optional[float] = None) -> List[m.CollectionInfo]:
        """Store statistics of one collection, or of every collection the caller may read."""
        return self._call("Stats", m.StatsRequest(collection=collection or ""), m.StatsResponse, timeout).collections


#: Metadata of one record: a dict (sent as JSON), a JSON object string, or None.
MetadataLike = Union[Dict[str, Any], str, None]

#: A document to store with a record: a ``str`` (its text, stored as ``{"text": str}``), a
#: dict (stored as is), or None (the daemon records one from the input).
DocumentLike = Union[str, Dict[str, Any], None]

_SINGLE_INPUTS = (str, bytes, bytearray, memoryview, os.PathLike, File, m.Media, m.Pixels, m.Audio, m.Input)


@dataclass
class Hit:
    """One search result: the record's key, its score and its metadata (parsed JSON, or None).

    ``score`` is in the collection's metric's natural form: ``cosine`` — cosine similarity
    in [-1, 1], higher is closer; ``l2`` — Euclidean distance (not squared), lower is closer;
    ``ip`` — dot product, higher is closer. Hits come best first in every case."""
    key: str
    score: float
    metadata: Any = None
    #: what the vector was made from (parsed JSON): ``{"text": ...}`` for a text,
    #: ``{"name", "mime_type", "bytes"}`` for a file; None when the record has none
    document: Any = None


@dataclass
class Record:
    """A stored record (from :meth:`Client.get` and :meth:`Client.scan`)."""
    key: str
    vector: Any
    metadata: Any = None
    #: as :attr:`Hit.document`
    document: Any = None


@dataclass
class Segment:
    """One time window of an input and its vector (``Client.embed_full(segments=True)``)."""
    start: float
    end: float
    vector: Any


@dataclass
class UpsertSummary:
    """What an upsert did: counts, and one ``UpsertResult`` per item in item order."""
    stored: int
    skipped: int
    failed: int
    results: List[m.UpsertResult]
    #: stored items whose text the model cut to its token window (``results[i].usage`` says
    #: which, with the tokens each had)
    truncated: int = 0


class UpsertError(InvalidArgumentError):
    """Some items of an upsert were refused (the others are stored); ``summary`` says which."""

    def __init__(self, message: str, summary: UpsertSummary) -> None:
        super().__init__(StatusCode.INVALID_ARGUMENT, message, "Upsert")
        self.summary = summary


def _summary(answered: Sequence[Optional[m.UpsertResponse]], positions: Sequence[Sequence[int]],
             local: Dict[int, m.UpsertResult]) -> UpsertSummary:
    """The summary of the answered Upsert calls and of the items failed locally (never sent),
    their results in item order. ``positions[c]`` are the item indexes of chunk ``c``."""
    by_index: Dict[int, m.UpsertResult] = dict(local)
    stored = skipped = truncated = 0
    failed = len(local)
    for r, where in zip(answered, positions):
        if r is None:
            continue
        if len(r.results) != len(where):
            raise ProtocolError(f"the daemon answered {len(r.results)} results for {len(where)} items", "Upsert")
        by_index.update(zip(where, r.results))
        stored, skipped, failed = stored + r.stored, skipped + r.skipped, failed + r.failed
        truncated += r.truncated
    return UpsertSummary(stored=stored, skipped=skipped, failed=failed, results=[by_index[i] for i in sorted(by_index)],
                         truncated=truncated)


def _chroma_distance(score: float, metric: str) -> float:
    """A score of ``metric`` as Chroma reports its distances (lower is closer): cosine
    ``1 - similarity``, l2 the squared Euclidean distance, ip ``1 - dot product``."""
    if metric == "l2":
        return score * score
    if metric in ("cosine", "ip"):
        return 1.0 - score
    raise ProtocolError(f"the daemon answered an unknown metric {metric!r}", "Search")


def _fd_inputs(request: Message) -> List[_FdInput]:
    """The inputs of a request whose files travel as descriptors, in message order."""
    if isinstance(request, m.EmbedRequest):
        inputs: List[Any] = list(request.inputs)
    elif isinstance(request, m.UpsertRequest):
        inputs = [item.input for item in request.items]
    elif isinstance(request, m.SearchRequest):
        inputs = [q.input for q in request.queries]
    else:
        return []
    return [x for x in inputs if isinstance(x, _FdInput)]


def _metadata_json(x: Any, index: int) -> str:
    if x is None:
        return ""
    if isinstance(x, str):
        return x
    if isinstance(x, dict):
        try:
            return json.dumps(x, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, f"metadata {index} is not JSON-serialisable: {e}",
                                       "Upsert") from None
    raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                               f"metadata {index} must be a dict, a JSON string or None, not {type(x).__name__}", "Upsert")


def _document_json(x: Any, index: int) -> str:
    """A :data:`DocumentLike` as the wire's JSON text ("" for None)."""
    if x is None:
        return ""
    if isinstance(x, str):
        return json.dumps({"text": x}, separators=(",", ":"), ensure_ascii=False)
    if isinstance(x, dict):
        try:
            return json.dumps(x, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, f"document {index} is not JSON: {e}") from None
    raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                               f"document {index} must be a str, a dict or None, not {type(x).__name__}")


def _document_text(document: Any) -> Optional[str]:
    """Chroma's document: the stored text, or None."""
    return document.get("text") if isinstance(document, dict) else None


def _parse_metadata(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # not JSON after all: hand it over as stored


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) or type(x).__name__.startswith(("float", "int"))


def _vector_rows(vectors: Any, single: bool) -> List[Any]:
    """Rows of float32 values from a NumPy array (1-D = one vector), a list of floats (one
    vector) or a list of such lists."""
    if hasattr(vectors, "ndim") and hasattr(vectors, "astype"):
        if vectors.ndim == 1:
            return [vectors]
        if vectors.ndim == 2:
            if single and vectors.shape[0] != 1:
                raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                           f"one key needs one vector, got an array of shape {tuple(vectors.shape)}")
            return [vectors[i] for i in range(vectors.shape[0])]
        raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                   f"vectors must be 1-D or 2-D, got an array of shape {tuple(vectors.shape)}")
    seq = list(vectors)
    if seq and _is_number(seq[0]):
        return [seq]
    return seq  # each row is checked by _vector_values (upsert settles a bad row alone)


def _vector_values(row: Any, what: str) -> Any:
    """One vector's values, ready to send: a 1-D NumPy array as it is, anything else as an
    ``array('f')``; InvalidArgumentError naming ``what`` for a row that is not numbers."""
    if hasattr(row, "ndim") and hasattr(row, "astype"):
        if row.ndim != 1:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                       f"{what} must be 1-D, got an array of shape {tuple(row.shape)}")
        if row.dtype.kind not in "fiub":
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                       f"{what} must hold numbers, not {row.dtype} values")
        return row
    if isinstance(row, (str, bytes, dict)) or not hasattr(row, "__iter__"):
        raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                   f"{what} must be a sequence of numbers, not a {type(row).__name__}")
    try:
        return array.array("f", row)
    except (TypeError, ValueError, OverflowError) as e:
        raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, f"{what} must hold only numbers ({e})") from None


def _check_key(key: Any) -> None:
    """InvalidArgumentError for a key this client cannot send (the daemon checks its length)."""
    if not isinstance(key, str):
        raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT, f"a key must be a str, not {type(key).__name__}")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                   "the key is not valid UTF-8 (it holds a lone surrogate)") from None


def _upsert_input(item: InputLike, index: int) -> m.Input:
    """:func:`to_input` for an upsert item; a file to pass as a descriptor is opened once
    here, so that one the caller cannot open fails alone rather than failing its whole call."""
    inp = to_input(item, index)
    if isinstance(inp, _FdInput):
        try:
            os.close(os.open(inp.path, os.O_RDONLY | os.O_CLOEXEC))
        except OSError as e:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                       f"input {index}: cannot open {inp.path}: {e.strerror or e}") from None
    return inp


def _approximate_bytes(x: Any) -> int:
    """Rough encoded size of an Input or UpsertItem without encoding it (for chunking)."""
    if isinstance(x, m.UpsertItem):
        n = len(x.key.encode("utf-8", "surrogatepass")) + len(x.metadata.encode("utf-8", "surrogatepass"))
        if x.vector is not None:
            return n + 4 * len(x.vector.values) + 8
        return n + (_approximate_bytes(x.input) if x.input is not None else 0)
    if isinstance(x, m.Input):
        if x.text is not None:
            return len(x.text.encode("utf-8", "surrogatepass"))
        if x.media is not None:
            return len(x.media.data)
        if x.pixels is not None:
            return len(x.pixels.rgb8)
        if x.audio is not None:
            return 4 * len(x.audio.samples)
    return 0


def _search_query(x: Any, index: int) -> m.SearchQuery:
    if isinstance(x, _SINGLE_INPUTS):
        return m.SearchQuery(input=to_input(x, index))
    if hasattr(x, "ndim") or isinstance(x, (list, tuple)):
        rows = _vector_rows(x, True)
        if len(rows) != 1:
            raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                                       f"query {index}: one query is one vector, got {len(rows)} rows "
                                       "(pass them as separate queries, or vectors=)", "Search")
        return m.SearchQuery(vector=m.Vector(values=_vector_values(rows[0], f"query {index}")))
    raise InvalidArgumentError(StatusCode.INVALID_ARGUMENT,
                               f"query {index}: a {type(x).__name__} is neither an input nor a vector", "Search")
