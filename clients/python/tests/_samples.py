"""Sample and random messages of every type, shared by the codec and cross-check tests."""

from __future__ import annotations

import array
import dataclasses
import random
import struct
from typing import Any, List, Tuple, Type

import _support  # noqa: F401
from embedd import messages as m
from embedd._proto import Message

_STRINGS = ["", "a", "héllo wörld", "日本語のテキスト", "emoji 🙂", "x" * 300, "line\nbreak\ttab\0nul"]


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _random_value(kind: str, spec: Any, rng: random.Random) -> Any:
    if kind == "uint32":
        return rng.choice([0, 1, 127, 128, 2**31, 2**32 - 1, rng.randrange(2**32)])
    if kind == "uint64":
        return rng.choice([0, 1, 2**32, 2**63 + 5, 2**64 - 1, rng.randrange(2**64)])
    if kind == "int32":
        return rng.choice([0, 1, -1, 2**31 - 1, -(2**31), rng.randrange(-(2**31), 2**31)])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "string":
        return rng.choice(_STRINGS)
    if kind == "bytes":
        return bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 7, 300])))
    if kind == "float":
        return _f32(rng.choice([0.0, -0.0, 1.0, -2.5, 1e-30, 3.4e38, rng.uniform(-1, 1)]))
    if kind == "double":
        return rng.choice([0.0, -0.0, 1.0, -2.5, 30.0, 1e-300, 1.7e308, rng.uniform(-1e6, 1e6)])
    if kind == "enum":
        return spec.enum(rng.randrange(len(spec.enum)))
    raise AssertionError(f"no random generator for {kind}")


def random_message(cls: Type[Message], rng: random.Random, depth: int = 0) -> Message:
    """A message of ``cls`` with random field values (some left at their defaults)."""
    specs, _ = cls._table()
    kwargs: dict = {}
    oneofs: dict = {}
    for s in specs:
        if s.oneof is not None:
            oneofs.setdefault(s.oneof, []).append(s)
            continue
        if rng.random() < 0.25:
            continue
        if s.kind == "message":
            sub = s.message()
            if s.repeated:
                kwargs[s.name] = [random_message(sub, rng, depth + 1) for _ in range(rng.randrange(3) if depth < 2 else 0)]
            elif depth < 3:
                kwargs[s.name] = random_message(sub, rng, depth + 1)
        elif s.kind == "map":
            kwargs[s.name] = {rng.choice(_STRINGS): rng.choice(_STRINGS) for _ in range(rng.randrange(4))}
        elif s.repeated and s.kind == "float":
            kwargs[s.name] = [_random_value("float", s, rng) for _ in range(rng.randrange(6))]
        elif s.repeated:
            kwargs[s.name] = [_random_value(s.kind, s, rng) for _ in range(rng.randrange(4))]
        else:
            kwargs[s.name] = _random_value(s.kind, s, rng)
    for members in oneofs.values():
        s = rng.choice(members + [None])
        if s is None:
            continue
        if s.kind == "message":
            kwargs[s.name] = random_message(s.message(), rng, depth + 1)
        else:
            kwargs[s.name] = _random_value(s.kind, s, rng)
    return cls(**kwargs)


def sample_messages() -> List[Tuple[str, Message]]:
    """Hand-picked messages with every field kind set to interesting values."""
    model = m.ModelInfo(name="all-MiniLM-L6-v2", plugin="text", state=m.ModelState.FAILED, error="boom: ü",
                        model_dir="/models/x", version="1.2", embedding_space="minilm/v1",
                        modalities=["text", "image"], mime_types=["image/png", ""], dimension=384, metric="cosine",
                        normalized=True, max_tokens=256, max_batch=64, preferred_batch=32, generation=2**40,
                        in_flight=3, is_default=True, max_input_bytes=2**33)
    plugin = m.PluginInfo(name="text", version="0.1", path="/usr/lib/embedd/plugins/libembedd-text.so",
                          abi_version="1.0", description="BERT")
    return [
        ("Hello", m.Hello(major=1, minor=0, client="embedd-python/0.1")),
        ("HelloReply", m.HelloReply(major=1, minor=3, server="embedd/0.1.0", max_frame_bytes=64 << 20,
                                    max_calls_in_flight=64, idle_timeout_ms=300000, default_deadline_ms=60000)),
        ("RpcStatus", m.RpcStatus(code=8, message="queue full")),
        ("HealthResponse", m.HealthResponse(status=m.ServingStatus.DRAINING, message="bye")),
        ("ModelInfo", model),
        ("StatusResponse", m.StatusResponse(version="0.1.0", pid=4242, uptime_ms=2**50, state="serving",
                                            socket_path="/run/embedd/embedd.sock", calls_total=2**63 + 5,
                                            calls_in_flight=2, reloads=1, models=[model, m.ModelInfo(name="b")],
                                            plugins=[plugin], protocol_major=1)),
        ("ListModelsResponse", m.ListModelsResponse(models=[model])),
        ("ListPluginsResponse", m.ListPluginsResponse(plugins=[plugin, m.PluginInfo()])),
        ("EmbedRequest", m.EmbedRequest(model="m", inputs=[
            m.Input(text="héllo"), m.Input(media=m.Media(data=bytes(range(256)), mime_type="image/png")),
            m.Input(pixels=m.Pixels(rgb8=b"\x01\x02\x03", width=1, height=1)),
            m.Input(audio=m.Audio(samples=array.array("f", [0.5, -1.0, 3.0]), sample_rate=16000)),
            m.Input(text=""), m.Input()])),
        ("EmbedResponse", m.EmbedResponse(model="m", dim=2, model_version="v1", generation=7, vectors=[
            m.Vector(values=array.array("f", [1.0, -2.5])), m.Vector(values=array.array("f", [0.0, 0.0]))])),
        ("LoadModelRequest", m.LoadModelRequest(name="n", plugin="fixture", model_dir="d",
                                                options={"dim": "8", "version": "v2"})),
        ("ReloadPluginRequest", m.ReloadPluginRequest(plugin="text", path="/x.so", model="m")),
        ("ReloadPluginResponse", m.ReloadPluginResponse(models=[model])),
        ("UnloadModelResponse", m.UnloadModelResponse(model=model)),
        ("LoadPluginResponse", m.LoadPluginResponse(plugin=plugin)),
        ("LoadModelResponse", m.LoadModelResponse(model=m.ModelInfo())),
        ("CreateCollectionRequest", m.CreateCollectionRequest(
            name="docs", model="all-MiniLM-L6-v2", metric="cosine", hnsw_m=32, exist_ok=True,
            acl=m.CollectionAcl(reader_uids=[1000, 0, 2**32 - 1], writer_gids=[27], restrict_read=True))),
        ("CollectionInfo", m.CollectionInfo(
            name="docs", dimension=384, metric="l2", count=2**40, created_unix_ms=1764100000000, can_read=True,
            stats=m.CollectionStats(count=5, max_level=-1, wal_bytes=4096), acl=m.CollectionAcl(owner_uid=1000))),
        ("UpsertRequest", m.UpsertRequest(collection="docs", skip_existing=True, model="m", items=[
            m.UpsertItem(key="a", input=m.Input(text="hello"), metadata='{"lang": "en"}'),
            m.UpsertItem(key="b", vector=m.Vector(values=[0.5, -1.0])),
            m.UpsertItem(key="c", input=m.Input(file=m.FileRef(index=0, mime_type="image/png"))),
            m.UpsertItem(key="")])),
        ("UpsertResponse", m.UpsertResponse(stored=1, skipped=1, failed=1, results=[
            m.UpsertResult(key="a", outcome=m.UpsertOutcome.UPSERT_STORED),
            m.UpsertResult(key="b", outcome=m.UpsertOutcome.UPSERT_FAILED, error="dimension 2, expected 384")])),
        ("SearchRequest", m.SearchRequest(collection="docs", k=10, ef=64, filter='{"lang": "en"}', queries=[
            m.SearchQuery(input=m.Input(text="q")), m.SearchQuery(vector=m.Vector(values=[1.0]))])),
        ("SearchResponse", m.SearchResponse(metric="cosine", results=[
            m.SearchResult(hits=[m.SearchHit(key="a", score=0.75, metadata="{}"), m.SearchHit(key="b", score=-0.0)]),
            m.SearchResult()])),
        ("GetResponse", m.GetResponse(key="a", vector=m.Vector(values=[1.0, 2.0]), metadata='{"x": 1}')),
        ("DeleteRequest", m.DeleteRequest(collection="docs", keys=["a", "", "é"])),
        ("StatsResponse", m.StatsResponse(collections=[m.CollectionInfo(name="x")])),
        ("OptimizeCollectionRequest", m.OptimizeCollectionRequest(name="docs")),
        ("OptimizeCollectionResponse", m.OptimizeCollectionResponse(collection=m.CollectionInfo(
            name="docs", stats=m.CollectionStats(count=3, nodes=3, max_level=0)))),
    ]


# Every message class must be exercised by the samples or the random generator.
assert all(dataclasses.is_dataclass(c) for c in m.ALL_MESSAGES.values())
