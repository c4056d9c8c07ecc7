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
class Input(Message):
    """One input to embed: exactly one of text, media, pixels or audio (a ``oneof``)."""
    text: Optional[str] = pb(1, "string", oneof="kind")
    media: Optional[Media] = pb(2, "message", message=Media, oneof="kind")
    pixels: Optional[Pixels] = pb(3, "message", message=Pixels, oneof="kind")
    audio: Optional[Audio] = pb(4, "message", message=Audio, oneof="kind")


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
}

#: Every message class by its .proto name (tests cross-check each against Google's protobuf).
ALL_MESSAGES: Dict[str, Type[Message]] = {
    cls.__name__: cls for cls in [
        Hello, HelloReply, RpcStatus, HealthRequest, HealthResponse, ModelInfo, PluginInfo,
        StatusRequest, StatusResponse, ListModelsRequest, ListModelsResponse, ListPluginsRequest,
        ListPluginsResponse, Media, Pixels, Audio, Input, EmbedRequest, Vector, EmbedResponse,
        LoadPluginRequest, LoadPluginResponse, ReloadPluginRequest, ReloadPluginResponse,
        UnloadModelRequest, UnloadModelResponse, LoadModelRequest, LoadModelResponse,
    ]
}
