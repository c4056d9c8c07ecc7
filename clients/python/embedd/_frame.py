"""Frame codec of the embedd socket protocol (docs/protocol.md, Sources/EmbedWire/Frame.swift).

Every frame is a 16-byte header followed by a payload (a protobuf message)::

    offset  size  field (integers big-endian)
    0       4     payload length in bytes
    4       1     kind: 1 HELLO, 2 REQUEST, 3 RESPONSE, 4 CANCEL, 5 GOAWAY
    5       1     flags (bit 0: END_OF_CALL, set on unary requests and responses)
    6       2     method id (REQUEST; echoed in RESPONSE; 0 otherwise)
    8       4     call id (chosen by the client, unique among its calls in flight)
    12      4     REQUEST: deadline in ms from receipt (0 = server default);
                  RESPONSE / GOAWAY: gRPC status code; otherwise 0

Pure functions over bytes: no I/O here.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Optional, Tuple

from ._proto import DecodeError

__all__ = ["FrameKind", "Frame", "HEADER_SIZE", "END_OF_CALL", "DESCRIPTORS", "MAX_DESCRIPTORS", "MAX_DESCRIPTORS_PER_CALL", "encode_frame",
           "decode_frame"]

HEADER_SIZE = 16
#: Flag bit 0: this frame ends the call (set on every frame today).
END_OF_CALL = 1
#: Flag bit 1: open descriptors (SCM_RIGHTS) were sent with this REQUEST frame's first byte.
DESCRIPTORS = 2
#: The kernel's limit of descriptors in one SCM_RIGHTS message (SCM_MAX_FD).
MAX_DESCRIPTORS = 253
#: Descriptors the client passes with one call: the daemon's default
#: ``limits.max_descriptors_per_call`` (a call with more is refused).
MAX_DESCRIPTORS_PER_CALL = 64
_HEADER = struct.Struct(">IBBHII")


class FrameKind(enum.IntEnum):
    """Byte 4 of the header."""
    HELLO = 1
    REQUEST = 2
    RESPONSE = 3
    CANCEL = 4
    GOAWAY = 5


@dataclass
class Frame:
    """One decoded frame. ``word`` is the deadline (REQUEST) or status code (RESPONSE/GOAWAY)."""
    kind: FrameKind
    flags: int = END_OF_CALL
    method: int = 0
    call_id: int = 0
    word: int = 0
    payload: bytes = b""


def encode_frame(kind: int, payload: bytes = b"", *, method: int = 0, call_id: int = 0, word: int = 0,
                 flags: int = END_OF_CALL) -> bytes:
    """The bytes of one frame: header, then payload."""
    return _HEADER.pack(len(payload), int(kind), flags, method, call_id, word) + payload


def decode_frame(buffer: bytes | bytearray, offset: int = 0,
                 max_payload: int = 1 << 30) -> Optional[Tuple[Frame, int]]:
    """Decodes the frame starting at ``buffer[offset]``.

    Returns ``(frame, bytes_used)``, or None when the buffer does not yet hold a whole frame.
    Raises DecodeError at once for a header that can never become valid (unknown kind, payload
    over ``max_payload``), before the payload arrives.
    """
    if len(buffer) - offset < HEADER_SIZE:
        return None
    length, kind, flags, method, call_id, word = _HEADER.unpack_from(buffer, offset)
    try:
        k = FrameKind(kind)
    except ValueError:
        raise DecodeError(f"unknown frame kind {kind}") from None
    if length > max_payload:
        raise DecodeError(f"frame payload of {length} bytes exceeds the limit of {max_payload} bytes")
    end = offset + HEADER_SIZE + length
    if len(buffer) < end:
        return None
    return Frame(k, flags, method, call_id, word, bytes(buffer[offset + HEADER_SIZE:end])), HEADER_SIZE + length
