"""Typed exceptions carrying the daemon's gRPC status code and message."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Type

from ._proto import ProtoEnum

__all__ = [
    "StatusCode", "EmbeddError", "CancelledError", "UnknownError", "InvalidArgumentError",
    "DeadlineExceededError", "NotFoundError", "AlreadyExistsError", "PermissionDeniedError",
    "ResourceExhaustedError", "FailedPreconditionError", "AbortedError", "OutOfRangeError",
    "UnimplementedError", "InternalError", "UnavailableError", "DataLossError",
    "UnauthenticatedError", "ProtocolError", "error_for",
]


class StatusCode(ProtoEnum):
    """gRPC canonical status codes (values as in grpc/status.proto)."""
    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class EmbeddError(Exception):
    """A call failed. ``code`` is the gRPC status (a :class:`StatusCode`, or a plain int for a
    code this client does not know), ``message`` the daemon's explanation, ``method`` the rpc.

    Catch a subclass (``NotFoundError``, ``ResourceExhaustedError``, …) for one status, or this
    class for all of them. ``InvalidArgumentError`` and ``OutOfRangeError`` are also
    ``ValueError``s, ``NotFoundError`` a ``LookupError``.
    """

    code: int
    message: str
    method: Optional[str]
    #: Set when a call of :meth:`Client.upsert` failed (it splits long lists over several
    #: calls): the ``UpsertSummary`` of the calls that were answered and of the items failed
    #: before sending (those items are settled: stored, skipped or refused as their results
    #: say; empty if none was).
    partial: Any = None
    #: With ``partial``: keys of the items whose call failed or was never sent — they may or may
    #: not be stored; upserting them again is safe (an upsert replaces by key).
    unconfirmed_keys: Optional[List[str]] = None

    def __init__(self, code: int, message: str, method: Optional[str] = None) -> None:
        try:
            code = StatusCode(code)
        except ValueError:
            pass
        self.code = code
        self.message = message
        self.method = method
        super().__init__(code, message)

    @property
    def code_name(self) -> str:
        """The canonical upper-case name, e.g. ``PERMISSION_DENIED``."""
        return self.code.name if isinstance(self.code, StatusCode) else f"CODE_{int(self.code)}"

    def __str__(self) -> str:
        where = f"{self.method}: " if self.method else ""
        return f"{where}{self.code_name}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code_name}, {self.message!r}, method={self.method!r})"


class CancelledError(EmbeddError):
    """CANCELLED: the call was cancelled (by this client, or the daemon dropped it)."""


class UnknownError(EmbeddError):
    """UNKNOWN."""


class InvalidArgumentError(EmbeddError, ValueError):
    """INVALID_ARGUMENT: the request is wrong (bad input, mixed spaces, missing field…)."""


class DeadlineExceededError(EmbeddError):
    """DEADLINE_EXCEEDED: the call did not finish before its deadline (on the daemon or here)."""


class NotFoundError(EmbeddError, LookupError):
    """NOT_FOUND: no such model, collection or key."""


class AlreadyExistsError(EmbeddError):
    """ALREADY_EXISTS."""


class PermissionDeniedError(EmbeddError):
    """PERMISSION_DENIED: the caller's uid/groups may not do this."""


class ResourceExhaustedError(EmbeddError):
    """RESOURCE_EXHAUSTED: a queue or limit is full; the daemon shed the call. Retry later."""


class FailedPreconditionError(EmbeddError):
    """FAILED_PRECONDITION: e.g. the model failed to load."""


class AbortedError(EmbeddError):
    """ABORTED."""


class OutOfRangeError(EmbeddError, ValueError):
    """OUT_OF_RANGE: e.g. an input larger than the model accepts."""


class UnimplementedError(EmbeddError):
    """UNIMPLEMENTED: the daemon does not know this method (older daemon?)."""


class InternalError(EmbeddError):
    """INTERNAL: a bug or an unexpected failure inside the daemon."""


class UnavailableError(EmbeddError):
    """UNAVAILABLE: the daemon is not reachable, shutting down, or the connection broke."""


class DataLossError(EmbeddError):
    """DATA_LOSS."""


class UnauthenticatedError(EmbeddError):
    """UNAUTHENTICATED."""


class ProtocolError(EmbeddError):
    """The daemon sent bytes this client cannot understand (code INTERNAL)."""

    def __init__(self, message: str, method: Optional[str] = None) -> None:
        super().__init__(StatusCode.INTERNAL, message, method)


_BY_CODE: Dict[int, Type[EmbeddError]] = {
    StatusCode.CANCELLED: CancelledError,
    StatusCode.UNKNOWN: UnknownError,
    StatusCode.INVALID_ARGUMENT: InvalidArgumentError,
    StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    StatusCode.NOT_FOUND: NotFoundError,
    StatusCode.ALREADY_EXISTS: AlreadyExistsError,
    StatusCode.PERMISSION_DENIED: PermissionDeniedError,
    StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    StatusCode.FAILED_PRECONDITION: FailedPreconditionError,
    StatusCode.ABORTED: AbortedError,
    StatusCode.OUT_OF_RANGE: OutOfRangeError,
    StatusCode.UNIMPLEMENTED: UnimplementedError,
    StatusCode.INTERNAL: InternalError,
    StatusCode.UNAVAILABLE: UnavailableError,
    StatusCode.DATA_LOSS: DataLossError,
    StatusCode.UNAUTHENTICATED: UnauthenticatedError,
}


def error_for(code: int, message: str, method: Optional[str] = None) -> EmbeddError:
    """The exception of the right subclass for a status code."""
    return _BY_CODE.get(code, EmbeddError)(code, message, method)
