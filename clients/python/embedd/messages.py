"""The messages of ``proto/embedd.proto`` (package ``embedd.v1``), written by hand.

Each class is a dataclass whose fields carry their protobuf number and type (see
:func:`embedd._proto.pb`); field names are the .proto names. Keep this file in step with the
.proto: a new message is a new class here, a new field a new line, and a new rpc a new entry in
:data:`METHODS` (the method id from the comment in the .proto).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Type

from ._proto import Message, pb

# ---------------------------------------------------------------------------- enums


class ServingStatus(enum.IntEnum):
    """``HealthResponse.status``."""
    SERVING_STATUS_UNKNOWN = 0
    SERVING = 1
    NOT_SERVING = 2
    DRAINING = 3


class ModelState(enum.IntEnum):
    """``ModelInfo.state``."""
    MODEL_STATE_UNKNOWN = 0
    READY = 1
    FAILED = 2
    LOADING = 3


# ---------------------------------------------------------------------------- connection


@dataclass
class Hello(Message):
    """First frame a client sends (frame kind HELLO)."""
    major: int = pb(1, "uint32")
    minor: int = pb(2, "uint32")
    client: str = pb(3, "string")


@dataclass
class HelloReply(Message):
    """The server's answer to Hello: its version and the connection's limits."""
    major: int = pb(1, "uint32")
    minor: int = pb(2, "uint32")
    server: str = pb(3, "string")
    max_frame_bytes: int = pb(4, "uint32")
    max_calls_in_flight: int = pb(5, "uint32")
    idle_timeout_ms: int = pb(6, "uint32")
    default_deadline_ms: int = pb(7, "uint32")


@dataclass
class RpcStatus(Message):
    """Payload of a failed RESPONSE and of GOAWAY."""
    code: int = pb(1, "uint32")
    message: str = pb(2, "string")


# ---------------------------------------------------------------------------- Health / Status


@dataclass
class HealthRequest(Message):
    pass


@dataclass
class HealthResponse(Message):
    """Whether the daemon serves calls, and why not."""
    status: ServingStatus = pb(1, "enum", enum_type=ServingStatus)
    message: str = pb(2, "string")


@dataclass
class ModelInfo(Message):
    """One configured model: state, identity and limits."""
    name: str = pb(1, "string")
    plugin: str = pb(2, "string")
    state: ModelState = pb(3, "enum", enum_type=ModelState)
    error: str = pb(4, "string")
    model_dir: str = pb(5, "string")
    version: str = pb(6, "string")
    embedding_space: str = pb(7, "string")
    modalities: List[str] = pb(8, "string", repeated=True)
    mime_types: List[str] = pb(9, "string", repeated=True)
    dimension: int = pb(10, "uint32")
    metric: str = pb(11, "string")
    normalized: bool = pb(12, "bool")
    max_tokens: int = pb(13, "uint32")
    max_batch: int = pb(14, "uint32")
    preferred_batch: int = pb(15, "uint32")
    generation: int = pb(16, "uint64")
    in_flight: int = pb(17, "uint32")
    is_default: bool = pb(18, "bool")
    max_input_bytes: int = pb(19, "uint64")
    plugin_calls: int = pb(20, "uint64")
    inputs_embedded: int = pb(21, "uint64")


@dataclass
class PluginInfo(Message):
    """One loaded plugin library."""
    name: str = pb(1, "string")
    version: str = pb(2, "string")
    path: str = pb(3, "string")
    abi_version: str = pb(4, "string")
    description: str = pb(5, "string")


@dataclass
class StatusRequest(Message):
    pass


@dataclass
class StatusResponse(Message):
    """The daemon's state, counters, models and plugins."""
    version: str = pb(1, "string")
    pid: int = pb(2, "uint32")
    uptime_ms: int = pb(3, "uint64")
    state: str = pb(4, "string")
    socket_path: str = pb(5, "string")
    config_path: str = pb(6, "string")
    connections: int = pb(7, "uint32")
    calls_total: int = pb(8, "uint64")
    calls_in_flight: int = pb(9, "uint32")
    reloads: int = pb(10, "uint64")
    models: List[ModelInfo] = pb(11, "message", repeated=True, message=ModelInfo)
    plugins: List[PluginInfo] = pb(12, "message", repeated=True, message=PluginInfo)
    data_dir: str = pb(13, "string")
    plugins_dir: str = pb(14, "string")
    models_dir: str = pb(15, "string")
    last_reload_error: str = pb(16, "string")
    protocol_major: int = pb(17, "uint32")
    protocol_minor: int = pb(18, "uint32")


@dataclass
class ListModelsRequest(Message):
    pass


@dataclass
class ListModelsResponse(Message):
    models: List[ModelInfo] = pb(1, "message", repeated=True, message=ModelInfo)


@dataclass
class ListPluginsRequest(Message):
    pass


@dataclass
class ListPluginsResponse(Message):
    plugins: List[PluginInfo] = pb(1, "message", repeated=True, message=PluginInfo)


# ---------------------------------------------------------------------------- Embed


@dataclass
class Media(Message):
    """Encoded media bytes (a PNG, a WAV file, …) with an optional MIME type."""
    data: bytes = pb(1, "bytes")
    mime_type: str = pb(2, "string")


@dataclass
class Pixels(Message):
    """Decoded 8-bit RGB pixels, row-major, ``width * height * 3`` bytes."""
    rgb8: bytes = pb(1, "bytes")
    width: int = pb(2, "uint32")
    height: int = pb(3, "uint32")


@dataclass
class Audio(Message):
    """Decoded mono float32 samples in [-1, 1]."""
    samples: Sequence[float] = pb(1, "float", repeated=True)
    sample_rate: int = pb(2, "uint32")


@dataclass
class FileRef(Message):
    """A file passed as an open descriptor with the REQUEST frame (SCM_RIGHTS): ``index`` among
    the frame's descriptors; ``mime_type`` "text/..." reads it as UTF-8 text, else media."""
    index: int = pb(1, "uint32")
    mime_type: str = pb(2, "string")


@dataclass
class Input(Message):
    """One input to embed: exactly one of text, media, pixels, audio or file (a ``oneof``)."""
    text: Optional[str] = pb(1, "string", oneof="kind")
    media: Optional[Media] = pb(2, "message", message=Media, oneof="kind")
    pixels: Optional[Pixels] = pb(3, "message", message=Pixels, oneof="kind")
    audio: Optional[Audio] = pb(4, "message", message=Audio, oneof="kind")
    file: Optional[FileRef] = pb(5, "message", message=FileRef, oneof="kind")


@dataclass
class EmbedRequest(Message):
    model: str = pb(1, "string")
    inputs: List[Input] = pb(2, "message", repeated=True, message=Input)


@dataclass
class Vector(Message):
    values: Sequence[float] = pb(1, "float", repeated=True)


@dataclass
class EmbedResponse(Message):
    model: str = pb(1, "string")
    dim: int = pb(2, "uint32")
    vectors: List[Vector] = pb(3, "message", repeated=True, message=Vector)
    model_version: str = pb(4, "string")
    generation: int = pb(5, "uint64")


# ---------------------------------------------------------------------------- admin


@dataclass
class LoadPluginRequest(Message):
    path: str = pb(1, "string")


@dataclass
class LoadPluginResponse(Message):
    plugin: Optional[PluginInfo] = pb(1, "message", message=PluginInfo)


@dataclass
class ReloadPluginRequest(Message):
    plugin: str = pb(1, "string")
    path: str = pb(2, "string")
    model: str = pb(3, "string")


@dataclass
class ReloadPluginResponse(Message):
    models: List[ModelInfo] = pb(1, "message", repeated=True, message=ModelInfo)


@dataclass
class UnloadModelRequest(Message):
    name: str = pb(1, "string")


@dataclass
class UnloadModelResponse(Message):
    model: Optional[ModelInfo] = pb(1, "message", message=ModelInfo)


@dataclass
class LoadModelRequest(Message):
    name: str = pb(1, "string")
    plugin: str = pb(2, "string")
    model_dir: str = pb(3, "string")
    options: Dict[str, str] = pb(4, "map")


@dataclass
class LoadModelResponse(Message):
    model: Optional[ModelInfo] = pb(1, "message", message=ModelInfo)


# ---------------------------------------------------------------------------- vector store


class UpsertOutcome(enum.IntEnum):
    """``UpsertResult.outcome``."""
    UPSERT_OUTCOME_UNKNOWN = 0
    UPSERT_STORED = 1            # durable (fsync'd) before the response was sent
    UPSERT_SKIPPED_EXISTING = 2  # skip_existing and the key was there
    UPSERT_FAILED = 3            # see error; nothing stored for this key


@dataclass
class CollectionAcl(Message):
    """Who may use a collection (the owner, uid 0 and the admin group always may)."""
    owner_uid: int = pb(1, "uint32")
    reader_uids: List[int] = pb(2, "uint32", repeated=True)
    reader_gids: List[int] = pb(3, "uint32", repeated=True)
    writer_uids: List[int] = pb(4, "uint32", repeated=True)
    writer_gids: List[int] = pb(5, "uint32", repeated=True)
    restrict_read: bool = pb(6, "bool")


@dataclass
class CollectionStats(Message):
    """Sizes and state of one collection's store."""
    count: int = pb(1, "uint64")
    deleted: int = pb(2, "uint64")
    unindexed: int = pb(3, "uint64")
    nodes: int = pb(4, "uint64")
    max_level: int = pb(5, "int32")
    wal_bytes: int = pb(6, "uint64")
    snapshot_bytes: int = pb(7, "uint64")
    memory_bytes: int = pb(8, "uint64")
    last_sequence: int = pb(9, "uint64")
    checkpoint_sequence: int = pb(10, "uint64")


@dataclass
class CollectionInfo(Message):
    """A collection: its binding (model or raw dimension), metric, size, ACL, the caller's rights."""
    name: str = pb(1, "string")
    model: str = pb(2, "string")
    embedding_space: str = pb(3, "string")
    dimension: int = pb(4, "uint32")
    metric: str = pb(5, "string")
    storage: str = pb(6, "string")
    count: int = pb(7, "uint64")
    acl: Optional[CollectionAcl] = pb(8, "message", message=CollectionAcl)
    created_unix_ms: int = pb(9, "uint64")
    hnsw_m: int = pb(10, "uint32")
    hnsw_ef_construction: int = pb(11, "uint32")
    hnsw_ef: int = pb(12, "uint32")
    stats: Optional[CollectionStats] = pb(13, "message", message=CollectionStats)
    can_read: bool = pb(14, "bool")
    can_write: bool = pb(15, "bool")
    error: str = pb(16, "string")


@dataclass
class CreateCollectionRequest(Message):
    name: str = pb(1, "string")
    model: str = pb(2, "string")
    dimension: int = pb(3, "uint32")
    metric: str = pb(4, "string")
    storage: str = pb(5, "string")
    hnsw_m: int = pb(6, "uint32")
    hnsw_ef_construction: int = pb(7, "uint32")
    hnsw_ef: int = pb(8, "uint32")
    acl: Optional[CollectionAcl] = pb(9, "message", message=CollectionAcl)
    exist_ok: bool = pb(10, "bool")


@dataclass
class CreateCollectionResponse(Message):
    collection: Optional[CollectionInfo] = pb(1, "message", message=CollectionInfo)


@dataclass
class DropCollectionRequest(Message):
    name: str = pb(1, "string")


@dataclass
class DropCollectionResponse(Message):
    pass


@dataclass
class ListCollectionsRequest(Message):
    pass


@dataclass
class ListCollectionsResponse(Message):
    collections: List[CollectionInfo] = pb(1, "message", repeated=True, message=CollectionInfo)


@dataclass
class DescribeCollectionRequest(Message):
    name: str = pb(1, "string")


@dataclass
class DescribeCollectionResponse(Message):
    collection: Optional[CollectionInfo] = pb(1, "message", message=CollectionInfo)


@dataclass
class UpsertItem(Message):
    """One item to store: a key, an input (embedded by the collection's model) or a vector, metadata (JSON)."""
    key: str = pb(1, "string")
    input: Optional[Input] = pb(2, "message", message=Input, oneof="value")
    vector: Optional[Vector] = pb(3, "message", message=Vector, oneof="value")
    metadata: str = pb(4, "string")


@dataclass
class UpsertRequest(Message):
    collection: str = pb(1, "string")
    items: List[UpsertItem] = pb(2, "message", repeated=True, message=UpsertItem)
    skip_existing: bool = pb(3, "bool")
    model: str = pb(4, "string")


@dataclass
class UpsertResult(Message):
    key: str = pb(1, "string")
    outcome: UpsertOutcome = pb(2, "enum", enum_type=UpsertOutcome)
    error: str = pb(3, "string")


@dataclass
class UpsertResponse(Message):
    """``results[i]`` answers ``items[i]``; the call is OK even when some items FAILED."""
    results: List[UpsertResult] = pb(1, "message", repeated=True, message=UpsertResult)
    stored: int = pb(2, "uint32")
    skipped: int = pb(3, "uint32")
    failed: int = pb(4, "uint32")


@dataclass
class SearchQuery(Message):
    input: Optional[Input] = pb(1, "message", message=Input, oneof="query")
    vector: Optional[Vector] = pb(2, "message", message=Vector, oneof="query")


@dataclass
class SearchRequest(Message):
    collection: str = pb(1, "string")
    queries: List[SearchQuery] = pb(2, "message", repeated=True, message=SearchQuery)
    k: int = pb(3, "uint32")
    ef: int = pb(4, "uint32")
    filter: str = pb(5, "string")
    model: str = pb(6, "string")


@dataclass
class SearchHit(Message):
    key: str = pb(1, "string")
    score: float = pb(2, "float")
    metadata: str = pb(3, "string")


@dataclass
class SearchResult(Message):
    hits: List[SearchHit] = pb(1, "message", repeated=True, message=SearchHit)


@dataclass
class SearchResponse(Message):
    results: List[SearchResult] = pb(1, "message", repeated=True, message=SearchResult)
    metric: str = pb(2, "string")


@dataclass
class GetRequest(Message):
    collection: str = pb(1, "string")
    key: str = pb(2, "string")


@dataclass
class GetResponse(Message):
    key: str = pb(1, "string")
    vector: Optional[Vector] = pb(2, "message", message=Vector)
    metadata: str = pb(3, "string")


@dataclass
class DeleteRequest(Message):
    collection: str = pb(1, "string")
    keys: List[str] = pb(2, "string", repeated=True)


@dataclass
class DeleteResponse(Message):
    deleted: int = pb(1, "uint64")


@dataclass
class CountRequest(Message):
    collection: str = pb(1, "string")


@dataclass
class CountResponse(Message):
    count: int = pb(1, "uint64")


@dataclass
class OptimizeCollectionRequest(Message):
    """Compacts a collection in graph order once every record is linked (protocol 1.1)."""
    name: str = pb(1, "string")


@dataclass
class OptimizeCollectionResponse(Message):
    collection: Optional[CollectionInfo] = pb(1, "message", message=CollectionInfo)


@dataclass
class StatsRequest(Message):
    collection: str = pb(1, "string")


@dataclass
class StatsResponse(Message):
    collections: List[CollectionInfo] = pb(1, "message", repeated=True, message=CollectionInfo)


# ---------------------------------------------------------------------------- method table

#: rpc name → (method id, request class, response class), as in ``service Embedd``.
METHODS: Dict[str, Tuple[int, Type[Message], Type[Message]]] = {
    "Health": (1, HealthRequest, HealthResponse),
    "Status": (2, StatusRequest, StatusResponse),
    "ListModels": (3, ListModelsRequest, ListModelsResponse),
    "ListPlugins": (4, ListPluginsRequest, ListPluginsResponse),
    "Embed": (5, EmbedRequest, EmbedResponse),
    "LoadPlugin": (16, LoadPluginRequest, LoadPluginResponse),
    "ReloadPlugin": (17, ReloadPluginRequest, ReloadPluginResponse),
    "UnloadModel": (18, UnloadModelRequest, UnloadModelResponse),
    "LoadModel": (19, LoadModelRequest, LoadModelResponse),
    "CreateCollection": (32, CreateCollectionRequest, CreateCollectionResponse),
    "DropCollection": (33, DropCollectionRequest, DropCollectionResponse),
    "ListCollections": (34, ListCollectionsRequest, ListCollectionsResponse),
    "DescribeCollection": (35, DescribeCollectionRequest, DescribeCollectionResponse),
    "Upsert": (36, UpsertRequest, UpsertResponse),
    "Search": (37, SearchRequest, SearchResponse),
    "Get": (38, GetRequest, GetResponse),
    "Delete": (39, DeleteRequest, DeleteResponse),
    "Count": (40, CountRequest, CountResponse),
    "Stats": (41, StatsRequest, StatsResponse),
    "OptimizeCollection": (42, OptimizeCollectionRequest, OptimizeCollectionResponse),
}

#: Every message class by its .proto name (tests cross-check each against Google's protobuf).
ALL_MESSAGES: Dict[str, Type[Message]] = {
    cls.__name__: cls for cls in [
        Hello, HelloReply, RpcStatus, HealthRequest, HealthResponse, ModelInfo, PluginInfo,
        StatusRequest, StatusResponse, ListModelsRequest, ListModelsResponse, ListPluginsRequest,
        ListPluginsResponse, Media, Pixels, Audio, Input, EmbedRequest, Vector, EmbedResponse,
        LoadPluginRequest, LoadPluginResponse, ReloadPluginRequest, ReloadPluginResponse,
        UnloadModelRequest, UnloadModelResponse, LoadModelRequest, LoadModelResponse, FileRef,
        CollectionAcl, CollectionStats, CollectionInfo, CreateCollectionRequest, CreateCollectionResponse,
        DropCollectionRequest, DropCollectionResponse, ListCollectionsRequest, ListCollectionsResponse,
        DescribeCollectionRequest, DescribeCollectionResponse, UpsertItem, UpsertRequest, UpsertResult,
        UpsertResponse, SearchQuery, SearchRequest, SearchHit, SearchResult, SearchResponse, GetRequest,
        GetResponse, DeleteRequest, DeleteResponse, CountRequest, CountResponse, StatsRequest, StatsResponse,
        OptimizeCollectionRequest, OptimizeCollectionResponse,
    ]
}
