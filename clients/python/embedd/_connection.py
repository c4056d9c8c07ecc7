"""One socket connection to embedd: handshake, many calls in flight, replies in any order.

Threading model ("leader/follower"): there is no background thread. A thread that waits for
its reply first tries to become the connection's *reader*; the reader reads frames and hands
every reply to the call it belongs to (setting that call's event) until its own reply
arrives, then steps down and nudges one other waiting thread to take over. So a single
caller reads its own reply without any thread hand-off (lowest latency), and many callers
share one socket with exactly one of them reading at any time.
"""

from __future__ import annotations

import array
import math
import os
import select
import socket
import struct
import threading
import time
from typing import Dict, Optional, Sequence

from . import _frame
from ._frame import DESCRIPTORS, END_OF_CALL, FrameKind, decode_frame, encode_frame
from ._proto import DecodeError
from .errors import (DeadlineExceededError, EmbeddError, ProtocolError, ResourceExhaustedError, StatusCode,
                     UnavailableError, error_for)
from .messages import Hello, HelloReply, RpcStatus

PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 3
_RECV_CHUNK = 256 * 1024
_POLL_IN = select.POLLIN | select.POLLHUP | select.POLLERR
# The reader blocks in recv() with the kernel's receive timeout (SO_RCVTIMEO) instead of
# poll() + recv(): one system call per reply instead of two. Long waits are cut into slices of
# this many seconds so the call's deadline is still checked.
_RECV_SLICE = 1.0


class NotSentError(UnavailableError):
    """The connection was already closed (by this client replacing an idle one, a GOAWAY, a
    break) when a call was about to be sent: nothing reached the daemon, so the call may be
    retried on a new connection as is."""


def _not_sent(closed: EmbeddError) -> NotSentError:
    return NotSentError(StatusCode.UNAVAILABLE, closed.message)


class _Call:
    __slots__ = ("id", "method", "event", "frame", "error", "done")

    def __init__(self, call_id: int, method: str) -> None:
        self.id = call_id
        self.method = method
        # Created only when the call's thread has to wait for another reader (most calls of a
        # single-threaded caller never need one).
        self.event: Optional[threading.Event] = None
        self.frame: Optional[_frame.Frame] = None
        self.error: Optional[EmbeddError] = None
        self.done = False


class Connection:
    """A connected, handshaken socket. Thread-safe; see the module doc for the threading model."""

    def __init__(self, path: str, client_name: str, connect_timeout: float = 10.0) -> None:
        self.path = path
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(connect_timeout)
            sock.connect(path)
        except FileNotFoundError:
            sock.close()
            raise UnavailableError(StatusCode.UNAVAILABLE,
                                   f"cannot connect to {path}: no such socket (is embedd running? "
                                   f"pass socket_path= or set EMBEDD_SOCKET)") from None
        except OSError as e:
            sock.close()
            # connect(2) answers ECONNREFUSED for a path that is no socket at all; say which.
            if isinstance(e, ConnectionRefusedError) and os.path.isdir(path):
                raise UnavailableError(StatusCode.UNAVAILABLE, f"cannot connect to {path}: it is a directory, not embedd's "
                                       f"socket (pass socket_path= or set EMBEDD_SOCKET to the socket file itself)") from None
            if isinstance(e, ConnectionRefusedError) and os.path.isfile(path):
                raise UnavailableError(StatusCode.UNAVAILABLE, f"cannot connect to {path}: it is a regular file, not a socket "
                                       f"(pass socket_path= or set EMBEDD_SOCKET to embedd's socket)") from None
            if isinstance(e, ConnectionRefusedError):
                raise UnavailableError(StatusCode.UNAVAILABLE, f"cannot connect to {path}: connection refused "
                                       f"(embedd is not running)") from None
            raise UnavailableError(StatusCode.UNAVAILABLE, f"cannot connect to {path}: {e.strerror or e}") from None
        sock.settimeout(None)
        self._sock = sock
        self._sock_fd = sock.fileno()
        self._poll = select.poll()
        self._poll.register(sock.fileno(), _POLL_IN)
        self._recv_timeout = 0.0  # SO_RCVTIMEO now set on the socket (0 = none)
        self._buf = bytearray()
        self._send_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._state = threading.Lock()
        self._pending: Dict[int, _Call] = {}
        self._next_id = 1
        self._closed: Optional[EmbeddError] = None
        self.last_used = time.monotonic()
        #: The process that opened the connection: after fork() a child must not share it.
        self.pid = os.getpid()
        try:
            self._send(encode_frame(FrameKind.HELLO,
                                    Hello(major=PROTOCOL_MAJOR, minor=PROTOCOL_MINOR, client=client_name).encode()))
            frame = self._read_frame_blocking(time.monotonic() + connect_timeout)
            if frame.kind == FrameKind.GOAWAY:
                st = self._status_of(frame)
                raise error_for(frame.word, f"the daemon refused the connection: {st.message}")
            if frame.kind != FrameKind.HELLO:
                raise ProtocolError(f"expected a HELLO frame from the daemon, got {frame.kind.name}")
            try:
                self.hello = HelloReply.decode(frame.payload)
            except DecodeError as e:
                raise ProtocolError(f"cannot decode HelloReply: {e}") from None
        except BaseException:
            sock.close()
            raise
        # The daemon accepts the call count it announced; waiting locally for a free slot is
        # better than being refused with RESOURCE_EXHAUSTED.
        self._slots = threading.BoundedSemaphore(max(1, self.hello.max_calls_in_flight or 64))

    # ------------------------------------------------------------------ state

    @property
    def closed(self) -> bool:
        """True once the connection is unusable (closed, broken, or told to go away)."""
        return self._closed is not None

    def close(self) -> None:
        """Closes the socket; calls still in flight fail with UNAVAILABLE."""
        self._fail_all(UnavailableError(StatusCode.UNAVAILABLE, "the client closed the connection"))
        with self._read_lock:  # wait for a reader to step down, then make sure the fd is closed
            self._sock.close()

    def forget(self) -> None:
        """In a forked child: closes this process's copy of the socket without sending
        anything or shutting the stream down (the parent still uses it)."""
        self._closed = UnavailableError(StatusCode.UNAVAILABLE, "connection inherited through fork()")
        try:
            self._sock.detach()
            os.close(self._sock_fd)
        except OSError:
            pass

    def idle_and_stale(self) -> bool:
        """True when no call is in flight and the daemon has (or is about to have) dropped the
        connection: pending input (a GOAWAY or EOF) or idle close to its idle timeout."""
        with self._state:
            if self._closed is not None:
                return True
            if self._pending:
                return False
        idle_ms = (time.monotonic() - self.last_used) * 1000
        if idle_ms < 200:
            # The daemon sends GOAWAY only after its idle timeout (seconds) or when it shuts
            # down (then the call fails with UNAVAILABLE anyway): skip the syscall when busy.
            return False
        if self.hello.idle_timeout_ms and idle_ms > max(self.hello.idle_timeout_ms - 1000, self.hello.idle_timeout_ms * 0.8):
            return True
        # Whatever arrived while we were idle: late replies to abandoned calls (dropped) or a
        # GOAWAY / EOF (the connection is then closed).
        if self._read_lock.acquire(blocking=False):
            try:
                while self._closed is None and self._poll.poll(0):
                    self._fill()
                    while True:
                        frame = self._next_buffered_frame()
                        if frame is None:
                            break
                        self._dispatch(frame)
                if self._closed is not None:
                    self._sock.close()
            except OSError:
                return True
            finally:
                self._read_lock.release()
                # A call registered meanwhile may have found the read role taken and gone to
                # sleep on its event: hand the role over, as every reader does when it steps down.
                self._nudge_one()
        return self._closed is not None

    # ------------------------------------------------------------------ calls

    def call(self, method_id: int, method: str, payload: bytes, timeout: Optional[float],
             fds: Sequence[int] = ()) -> bytes:
        """Sends one REQUEST and returns the payload of its OK RESPONSE.

        ``fds`` are open descriptors passed with the frame (SCM_RIGHTS, frame flag
        DESCRIPTORS); ``FileRef.index`` in the request counts among them. The caller keeps
        ownership of its descriptors (the daemon receives duplicates).

        ``timeout`` (seconds) is sent as the call's deadline and enforced here too: when it
        passes, the call is cancelled on the daemon and DeadlineExceededError is raised.
        None = the daemon's default deadline.
        """
        if self._closed is not None:
            raise _not_sent(self._closed)
        limit = self.hello.max_frame_bytes
        if limit and len(payload) > limit:
            raise ResourceExhaustedError(StatusCode.RESOURCE_EXHAUSTED,
                                         f"request of {len(payload)} bytes exceeds the daemon's max_frame_bytes "
                                         f"({limit}); send fewer or smaller inputs per call", method)
        now = time.monotonic()
        if timeout is not None:
            if timeout <= 0:
                raise DeadlineExceededError(StatusCode.DEADLINE_EXCEEDED, f"timeout must be positive (got {timeout})", method)
            deadline = now + timeout
            deadline_ms = min(max(1, math.ceil(timeout * 1000)), 0xFFFFFFFF)
        else:
            # The daemon applies its default deadline; wait a little longer than that here so a
            # hung daemon cannot hang the caller forever.
            deadline = now + (self.hello.default_deadline_ms or 60_000) / 1000 + 5.0
            deadline_ms = 0
        if not self._slots.acquire(timeout=max(0.0, deadline - now)):
            raise DeadlineExceededError(StatusCode.DEADLINE_EXCEEDED,
                                        f"no free call slot on the connection within {timeout} s", method)
        try:
            with self._state:
                if self._closed is not None:
                    raise _not_sent(self._closed)
                call_id = self._next_id
                # Call ids are never reused soon: a cancelled call may still be known to the daemon.
                self._next_id = call_id + 1 if call_id < 0xFFFFFFFF else 1
                call = _Call(call_id, method)
                self._pending[call_id] = call
            try:
                flags = END_OF_CALL | (DESCRIPTORS if fds else 0)
                self._send(encode_frame(FrameKind.REQUEST, payload, method=method_id, call_id=call_id, word=deadline_ms,
                                        flags=flags), fds)
                self._wait(call, deadline)
            except BaseException:
                self._abandon(call)
                raise
            if call.error is not None:
                raise call.error
            frame = call.frame
            assert frame is not None
            if frame.word != StatusCode.OK:
                raise error_for(frame.word, self._status_of(frame).message, method)
            return frame.payload
        finally:
            self._slots.release()
            self.last_used = time.monotonic()

    def _abandon(self, call: _Call) -> None:
        """Forgets a call that timed out or was interrupted and cancels it on the daemon."""
        with self._state:
            was_pending = self._pending.pop(call.id, None) is not None
        if was_pending and self._closed is None:
            try:
                self._send(encode_frame(FrameKind.CANCEL, call_id=call.id))
            except EmbeddError:
                pass
        self._nudge_one()

    def _wait(self, call: _Call, deadline: float) -> None:
        while not call.done:
            if self._read_lock.acquire(blocking=False):
                try:
                    self._read_until(call, deadline)
                    if self._closed is not None:
                        self._sock.close()
                finally:
                    self._read_lock.release()
                    self._nudge_one()
                if call.done:
                    return
            else:
                with self._state:
                    if call.done:
                        return
                    if call.event is None:
                        call.event = threading.Event()
                        # A reader that stepped down just now could not nudge us (no event
                        # yet): try for the read role once more before sleeping.
                        retry = True
                    else:
                        retry = False
                if retry:
                    continue
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    call.event.wait(remaining)
                    call.event.clear()
                    continue
            if time.monotonic() >= deadline and not call.done:
                with self._state:
                    if call.done:
                        return
                raise DeadlineExceededError(StatusCode.DEADLINE_EXCEEDED,
                                            "no reply before the call's deadline", call.method)

    def _nudge_one(self) -> None:
        """Wakes one waiting call so that its thread becomes the reader."""
        with self._state:
            for c in self._pending.values():
                if not c.done and c.event is not None:
                    c.event.set()
                    return

    def _read_until(self, call: _Call, deadline: float) -> None:
        """As the reader: dispatches frames until `call` is answered or `deadline` passes."""
        while not call.done:
            frame = self._next_buffered_frame()
            if frame is not None:
                self._dispatch(frame)
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._set_recv_timeout(remaining)
            self._fill()  # blocks until data, EOF, shutdown by _fail_all, or the timeout

    def _set_recv_timeout(self, remaining: float) -> None:
        """Bounds the reader's next blocking recv() by the call's remaining time (whole
        milliseconds, at least one) or `_RECV_SLICE`; a system call only when it changes."""
        want = _RECV_SLICE if remaining >= _RECV_SLICE else max(1, math.ceil(remaining * 1000)) / 1000
        if want != self._recv_timeout:
            seconds = int(want)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                                  struct.pack("@ll", seconds, int(round((want - seconds) * 1_000_000))))
            self._recv_timeout = want

    def _fill(self) -> None:
        try:
            chunk = self._sock.recv(_RECV_CHUNK)
        except (BlockingIOError, InterruptedError):  # receive timeout (EAGAIN) or a signal
            return
        except OSError as e:
            self._fail_all(UnavailableError(StatusCode.UNAVAILABLE, f"connection to {self.path} broke: {e.strerror or e}"))
            return
        if not chunk:
            self._fail_all(UnavailableError(StatusCode.UNAVAILABLE,
                                            f"the daemon closed the connection ({self.path})"))
            return
        self._buf += chunk

    def _next_buffered_frame(self) -> Optional[_frame.Frame]:
        if self._closed is not None:
            # Wake the reader's own call too (its error is set by _fail_all).
            return None
        try:
            decoded = decode_frame(self._buf, 0)
        except DecodeError as e:
            self._fail_all(ProtocolError(f"malformed frame from the daemon: {e}"))
            return None
        if decoded is None:
            return None
        frame, used = decoded
        del self._buf[:used]
        return frame

    def _dispatch(self, frame: _frame.Frame) -> None:
        if frame.kind == FrameKind.RESPONSE:
            with self._state:
                call = self._pending.pop(frame.call_id, None)
                if call is None:
                    return  # reply to a call we abandoned (timed out / cancelled)
                call.frame = frame
                call.done = True
                event = call.event
            if event is not None:
                event.set()
        elif frame.kind == FrameKind.GOAWAY:
            # Calls still in flight when the daemon drops the connection did not complete.
            code = frame.word if frame.word != StatusCode.OK else StatusCode.UNAVAILABLE
            message = self._status_of(frame).message or "GOAWAY"
            self._fail_all(error_for(code, f"the daemon closed the connection: {message}"))
        else:
            self._fail_all(ProtocolError(f"unexpected {frame.kind.name} frame from the daemon"))

    def _fail_all(self, error: EmbeddError) -> None:
        with self._state:
            if self._closed is None:
                self._closed = error
            calls = list(self._pending.values())
            self._pending.clear()
            for c in calls:
                c.error = error
                c.done = True
        for c in calls:
            if c.event is not None:
                c.event.set()
        # shutdown() wakes a reader blocked in recv(); the descriptor itself is closed only by
        # a thread holding the read lock, so the reader never reads a reused descriptor number.
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._close_socket_if_unused()

    def _close_socket_if_unused(self) -> None:
        if self._closed is None:
            return
        if self._read_lock.acquire(blocking=False):
            try:
                self._sock.close()
            finally:
                self._read_lock.release()

    # ------------------------------------------------------------------ I/O helpers

    def _send(self, data: bytes, fds: Sequence[int] = ()) -> None:
        try:
            with self._send_lock:
                if fds:
                    # The descriptors ride on the frame's first byte (one sendmsg); the rest of
                    # the frame follows as ordinary stream data.
                    sent = self._sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
                    if sent < len(data):
                        self._sock.sendall(memoryview(data)[sent:])
                else:
                    self._sock.sendall(data)
        except OSError as e:
            err = UnavailableError(StatusCode.UNAVAILABLE, f"connection to {self.path} broke while sending: {e.strerror or e}")
            self._fail_all(err)
            raise err from None

    def _read_frame_blocking(self, deadline: float) -> _frame.Frame:
        """Reads one frame (handshake only: no other thread uses the socket yet)."""
        while True:
            try:
                decoded = decode_frame(self._buf, 0)
            except DecodeError as e:
                raise ProtocolError(f"malformed frame from the daemon: {e}") from None
            if decoded is not None:
                frame, used = decoded
                del self._buf[:used]
                return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._poll.poll(remaining * 1000):
                raise DeadlineExceededError(StatusCode.DEADLINE_EXCEEDED,
                                            f"the daemon at {self.path} did not answer the handshake in time")
            chunk = self._sock.recv(_RECV_CHUNK)
            if not chunk:
                raise UnavailableError(StatusCode.UNAVAILABLE,
                                       f"the daemon at {self.path} closed the connection during the handshake")
            self._buf += chunk

    @staticmethod
    def _status_of(frame: _frame.Frame) -> RpcStatus:
        try:
            return RpcStatus.decode(frame.payload)
        except DecodeError:
            return RpcStatus(code=frame.word, message=f"(undecodable status payload of {len(frame.payload)} bytes)")


def default_socket_path() -> str:
    """``$EMBEDD_SOCKET`` if set and not empty, else ``/run/embedd/embedd.sock``."""
    return os.environ.get("EMBEDD_SOCKET") or "/run/embedd/embedd.sock"
