"""Python client of embedd, the local embedding daemon (standard library only).

    from embedd import Client
    with Client() as c:                       # $EMBEDD_SOCKET, else /run/embedd/embedd.sock
        vectors = c.embed(["first text", "second text"])

See README.md for the full API. NumPy, when installed, is used for vectors in and out.
"""

from .client import HAS_NUMPY, Client, DocumentLike, EmbedResult, File, Hit, InputLike, MetadataLike, Record, Segment, UpsertError, UpsertSummary
from .errors import (AbortedError, AlreadyExistsError, CancelledError, DataLossError, DeadlineExceededError,
                     EmbeddError, FailedPreconditionError, InternalError, InvalidArgumentError, NotFoundError,
                     OutOfRangeError, PermissionDeniedError, ProtocolError, ResourceExhaustedError, StatusCode,
                     UnauthenticatedError, UnavailableError, UnimplementedError, UnknownError)
from .messages import (Audio, CollectionAcl, CollectionInfo, CollectionStats, Media, ModelInfo, ModelState, Pixels,
                       PluginInfo, ServingStatus, SoundOutcome, UpsertOutcome)

__version__ = "0.1.0"

__all__ = [
    "Client", "EmbedResult", "File", "InputLike", "HAS_NUMPY", "Hit", "Record", "Segment", "UpsertSummary", "UpsertError",
    "MetadataLike", "DocumentLike", "CollectionAcl", "CollectionInfo", "CollectionStats", "UpsertOutcome", "SoundOutcome", "Media", "Pixels", "Audio", "ModelInfo",
    "ModelState", "PluginInfo", "ServingStatus", "StatusCode", "EmbeddError", "AbortedError",
    "AlreadyExistsError", "CancelledError", "DataLossError", "DeadlineExceededError", "FailedPreconditionError",
    "InternalError", "InvalidArgumentError", "NotFoundError", "OutOfRangeError", "PermissionDeniedError",
    "ProtocolError", "ResourceExhaustedError", "UnauthenticatedError", "UnavailableError", "UnimplementedError",
    "UnknownError", "__version__",
]
