"""Passing files as open descriptors (SCM_RIGHTS), checked on the receiving end of a real
socket pair: the frame carries the DESCRIPTORS flag, the descriptors arrive with its first
byte in FileRef.index order, and they read the files' contents."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import unittest
from pathlib import Path
from typing import Any, List

import _support  # noqa: F401
import embedd
from embedd import messages as m
from embedd._connection import Connection
from embedd._frame import DESCRIPTORS, END_OF_CALL, FrameKind, decode_frame, encode_frame


class FakeDaemon:
    """Answers the handshake, then records each REQUEST with the descriptors that came with it
    and answers an empty EmbedResponse (enough for the client to finish the call)."""

    def __init__(self, path: str) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        self.requests: List[Any] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        conn, _ = self.listener.accept()
        buf = bytearray()
        pending_fds: List[List[int]] = []
        while True:
            data, fds, _, _ = socket.recv_fds(conn, 65536, 64)
            if not data:
                break
            if fds:
                pending_fds.append(list(fds))
            buf += data
            while True:
                d = decode_frame(buf)
                if d is None:
                    break
                frame, used = d
                del buf[:used]
                if frame.kind == FrameKind.HELLO:
                    conn.sendall(encode_frame(FrameKind.HELLO, m.HelloReply(major=1, max_frame_bytes=1 << 20,
                                                                            max_calls_in_flight=8).encode()))
                    continue
                got = pending_fds.pop(0) if frame.flags & DESCRIPTORS else []
                contents = []
                for fd in got:
                    with os.fdopen(fd, "rb") as f:
                        contents.append(f.read())
                self.requests.append((frame, m.EmbedRequest.decode(frame.payload), contents))
                reply = m.EmbedResponse(model="fake", dim=1, vectors=[m.Vector(values=[0.0])] * len(m.EmbedRequest.decode(frame.payload).inputs))
                conn.sendall(encode_frame(FrameKind.RESPONSE, reply.encode(), method=frame.method, call_id=frame.call_id))
        conn.close()
        self.listener.close()


class DescriptorPassingTests(unittest.TestCase):
    def test_files_travel_as_descriptors_in_index_order(self) -> None:
        tmp = Path(tempfile.mkdtemp(prefix="embedd-py-fd-", dir="/tmp"))
        self.addCleanup(shutil.rmtree, tmp, True)
        a, b = tmp / "a.txt", tmp / "b.png"
        a.write_bytes(b"first file")
        b.write_bytes(b"\x89PNG second")
        fake = FakeDaemon(str(tmp / "s.sock"))
        self.addCleanup(fake.listener.close)
        c = embedd.Client(str(tmp / "s.sock"))
        self.addCleanup(c.close)
        c.connect()  # the handshake completes only after the fake daemon accepted
        before = set(os.listdir("/proc/self/fd"))
        c.embed(["plain text", embedd.File(a, send_fd=True), embedd.File(b, send_fd=True),
                 embedd.File(b, mime_type="image/x-mine", send_fd=True)])
        c.embed("no files here")
        frame, req, contents = fake.requests[0]
        self.assertEqual(frame.flags, END_OF_CALL | DESCRIPTORS)
        self.assertEqual(req.inputs[0], m.Input(text="plain text"))
        # Each carries its name, for the stored document (the daemon never opens it).
        self.assertEqual([i.file for i in req.inputs[1:]], [m.FileRef(index=0, mime_type="text/plain", name=str(a)),
                                                            m.FileRef(index=1, mime_type="image/png", name=str(b)),
                                                            m.FileRef(index=2, mime_type="image/x-mine", name=str(b))])
        self.assertEqual(contents, [b"first file", b"\x89PNG second", b"\x89PNG second"])
        frame2, _, contents2 = fake.requests[1]
        self.assertEqual((frame2.flags, contents2), (END_OF_CALL, []))
        # The client closed its own copies of the descriptors.
        self.assertEqual(set(os.listdir("/proc/self/fd")) - before, set())

    def test_unreadable_file_is_refused_before_sending(self) -> None:
        c = embedd.Client("/nonexistent/socket")
        with self.assertRaisesRegex(embedd.InvalidArgumentError, "cannot open /no/such/file"):
            c.embed(embedd.File("/no/such/file", send_fd=True))


if __name__ == "__main__":
    unittest.main()
