"""The frame codec: header layout byte by byte, partial input, and headers that can never be valid."""

from __future__ import annotations

import unittest

import _support  # noqa: F401
from embedd._frame import END_OF_CALL, HEADER_SIZE, Frame, FrameKind, decode_frame, encode_frame
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


if __name__ == "__main__":
    unittest.main()
