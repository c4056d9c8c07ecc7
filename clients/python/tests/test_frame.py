"""The frame codec: header layout byte by byte, partial input, and headers that can never be valid."""

from __future__ import annotations

import unittest

import _support  # noqa: F401
from embedd._frame import END_OF_CALL, HEADER_SIZE, Frame, FrameKind, decode_frame, encode_frame
from embedd import messages as m
from embedd._proto import DecodeError


class FrameTests(unittest.TestCase):
    def test_header_layout(self) -> None:
        data = encode_frame(FrameKind.REQUEST, b"\x0a\x01x", method=0x0105, call_id=0x01020304, word=250)
        self.assertEqual(data.hex(), "00000003" "02" "01" "0105" "01020304" "000000fa" "0a0178")
        self.assertEqual(HEADER_SIZE, 16)

    def test_decode_round_trip_and_partial_input(self) -> None:
        a = encode_frame(FrameKind.RESPONSE, b"abc", method=5, call_id=7, word=8)
        b = encode_frame(FrameKind.GOAWAY, b"", word=14, flags=0)
        stream = a + b
        for cut in range(len(a)):
            self.assertIsNone(decode_frame(stream[:cut]), cut)
        frame, used = decode_frame(stream)  # type: ignore[misc]
        self.assertEqual(frame, Frame(FrameKind.RESPONSE, END_OF_CALL, 5, 7, 8, b"abc"))
        self.assertEqual(used, len(a))
        frame2, used2 = decode_frame(stream, used)  # type: ignore[misc]
        self.assertEqual((frame2.kind, frame2.word, frame2.flags, used2), (FrameKind.GOAWAY, 14, 0, 16))

    def test_bad_headers_fail_before_the_payload_arrives(self) -> None:
        with self.assertRaisesRegex(DecodeError, "unknown frame kind 9"):
            decode_frame(bytes.fromhex("00000000" "09" "01" "0000" "00000000" "00000000"))
        with self.assertRaisesRegex(DecodeError, "exceeds the limit"):
            decode_frame(bytes.fromhex("7fffffff" "03" "01" "0000" "00000000" "00000000"), max_payload=1 << 20)


class ProtocolDocExampleTests(unittest.TestCase):
    """The worked example of docs/protocol.md §5, byte for byte."""

    def test_hello(self) -> None:
        data = encode_frame(FrameKind.HELLO, m.Hello(major=1, minor=0, client="embedctl/0.1").encode())
        self.assertEqual(data.hex(), "00000010" "01" "01" "0000" "00000000" "00000000"
                                     "0801" "1a0c656d62656463746c2f302e31")

    def test_hello_reply(self) -> None:
        payload = bytes.fromhex("0801" "1a0c656d626564642f302e312e30" "2080808020" "2840" "30e0a712" "38e0d403")
        frame, _ = decode_frame(bytes.fromhex("0000001f" "01010000" "00000000" "00000000") + payload)  # type: ignore[misc]
        self.assertEqual(m.HelloReply.decode(frame.payload),
                         m.HelloReply(major=1, server="embedd/0.1.0", max_frame_bytes=67108864, max_calls_in_flight=64,
                                      idle_timeout_ms=300000, default_deadline_ms=60000))

    def test_embed_request_and_response(self) -> None:
        req = m.EmbedRequest(model="all-MiniLM-L6-v2", inputs=[m.Input(text="hello")])
        data = encode_frame(FrameKind.REQUEST, req.encode(), method=5, call_id=1, word=5000)
        self.assertEqual(data.hex(), "0000001b" "02" "01" "0005" "00000001" "00001388"
                                     "0a10" + "all-MiniLM-L6-v2".encode().hex() + "1207" "0a0568656c6c6f")
        resp = bytes.fromhex("0000002a" "03010005" "00000001" "00000000"
                             "0a10" + "all-MiniLM-L6-v2".encode().hex() + "1003" "1a0e" "0a0c" "0000003f" "000080be"
                             "0000803f" "22027631" "2801")
        frame, used = decode_frame(resp)  # type: ignore[misc]
        self.assertEqual((frame.kind, frame.method, frame.call_id, frame.word, used), (FrameKind.RESPONSE, 5, 1, 0, len(resp)))
        r = m.EmbedResponse.decode(frame.payload)
        self.assertEqual(r, m.EmbedResponse(model="all-MiniLM-L6-v2", dim=3, vectors=[m.Vector(values=[0.5, -0.25, 1.0])],
                                            model_version="v1", generation=1))

    def test_error_response_and_cancel(self) -> None:
        data = bytes.fromhex("00000016" "03010005" "00000002" "00000005" "0805" "1212") + b"no model named 'x'"
        frame, _ = decode_frame(data)  # type: ignore[misc]
        self.assertEqual(frame.word, 5)
        self.assertEqual(m.RpcStatus.decode(frame.payload), m.RpcStatus(code=5, message="no model named 'x'"))
        self.assertEqual(encode_frame(FrameKind.CANCEL, call_id=1).hex(), "00000000" "04" "01" "0000" "00000001" "00000000")


if __name__ == "__main__":
    unittest.main()
