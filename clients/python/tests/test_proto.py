"""The protobuf codec: primitives against known bytes, every message round-trips, proto3
defaults, oneof, maps, packed/unpacked floats, unknown fields, and malformed input."""

from __future__ import annotations

import array
import random
import struct
import unittest
from dataclasses import dataclass
from typing import List, Optional

import _support  # noqa: F401  (sets the import path)
from embedd import _proto, messages as m
from embedd._proto import DecodeError, Message, decode_varint, encode_varint, pb, zigzag_decode, zigzag_encode

from _samples import random_message, sample_messages


def varint(v: int) -> bytes:
    out = bytearray()
    encode_varint(v, out)
    return bytes(out)


class PrimitiveTests(unittest.TestCase):
    def test_varint_known_bytes(self) -> None:
        cases = {0: "00", 1: "01", 127: "7f", 128: "8001", 150: "9601", 300: "ac02", 16384: "808001",
                 2**32 - 1: "ffffffff0f", 2**63: "80808080808080808001", 2**64 - 1: "ffffffffffffffffff01"}
        for value, hx in cases.items():
            self.assertEqual(varint(value).hex(), hx, value)
            self.assertEqual(decode_varint(bytes.fromhex(hx), 0), (value, len(hx) // 2))

    def test_varint_rejects_bad_input(self) -> None:
        with self.assertRaises(ValueError):
            varint(-1)
        with self.assertRaisesRegex(DecodeError, "truncated"):
            decode_varint(b"\x80\x80", 0)
        with self.assertRaisesRegex(DecodeError, "malformed"):
            decode_varint(b"\xff" * 10 + b"\x01", 0)
        with self.assertRaisesRegex(DecodeError, "malformed"):
            decode_varint(b"\xff" * 9 + b"\x02", 0)  # bit 64 set

    def test_zigzag(self) -> None:
        for plain, zz in [(0, 0), (-1, 1), (1, 2), (-2, 3), (2147483647, 4294967294), (-2147483648, 4294967295),
                          (-(2**63), 2**64 - 1), (2**63 - 1, 2**64 - 2)]:
            self.assertEqual(zigzag_encode(plain), zz)
            self.assertEqual(zigzag_decode(zz), plain)


@dataclass
class Scalars(Message):
    """Every scalar kind, for codec tests (not part of the protocol)."""
    u32: int = pb(1, "uint32")
    u64: int = pb(2, "uint64")
    i32: int = pb(3, "int32")
    i64: int = pb(4, "int64")
    s32: int = pb(5, "sint32")
    s64: int = pb(6, "sint64")
    b: bool = pb(7, "bool")
    f32: int = pb(8, "fixed32")
    f64: int = pb(9, "fixed64")
    sf32: int = pb(10, "sfixed32")
    sf64: int = pb(11, "sfixed64")
    fl: float = pb(12, "float")
    db: float = pb(13, "double")
    st: str = pb(14, "string")
    by: bytes = pb(15, "bytes")
    ints: List[int] = pb(16, "sint64", repeated=True)
    doubles: List[float] = pb(17, "double", repeated=True)
    child: Optional[m.Media] = pb(18, "message", message=m.Media)


class ScalarEncodingTests(unittest.TestCase):
    def test_known_encodings(self) -> None:
        # Each expected byte string was worked out by hand from the protobuf encoding spec.
        cases = [
            (Scalars(u32=150), "089601"),
            (Scalars(i32=-1), "18ffffffffffffffffff01"),       # negative int32: 10 bytes
            (Scalars(i64=-2), "20feffffffffffffffff01"),
            (Scalars(s32=-1), "2801"),
            (Scalars(s64=-64), "307f"),
            (Scalars(b=True), "3801"),
            (Scalars(f32=1), "4501000000"),
            (Scalars(f64=2**40), "490000000000010000"),
            (Scalars(sf32=-2), "55feffffff"),
            (Scalars(sf64=-1), "59ffffffffffffffff"),
            (Scalars(fl=1.5), "650000c03f"),
            (Scalars(fl=-0.0), "6500000080"),                  # -0.0 is not the default
            (Scalars(db=-2.0), "69" + "00000000000000c0"),
            (Scalars(st="hé"), "7203" + "68c3a9"),
            (Scalars(by=b"\x00\xff"), "7a0200ff"),
            (Scalars(ints=[1, -1, 300]), "820104" + "0201d804"),
            (Scalars(child=m.Media()), "9201" + "00"),          # empty but present message
            (m.Hello(major=1, client="x"), "0801" + "1a0178"),
            (m.Input(text=""), "0a00"),                         # oneof member: written even when empty
            (m.LoadModelRequest(options={"b": "", "a": "1"}),   # map: sorted, key and value always written
             "2206" + "0a0161" + "120131" + "2205" + "0a0162" + "1200"),
            (m.Vector(values=[1.0, -2.5]), "0a08" + "0000803f" + "000020c0"),
        ]
        for msg, hx in cases:
            with self.subTest(msg=msg):
                self.assertEqual(msg.encode().hex(), hx.replace(" ", ""))
                self.assertEqual(type(msg).decode(bytes.fromhex(hx)), msg)

    def test_defaults_are_not_written(self) -> None:
        self.assertEqual(Scalars().encode(), b"")
        self.assertEqual(Scalars(u32=0, st="", by=b"", b=False, fl=0.0, ints=[]).encode(), b"")
        self.assertEqual(m.StatusResponse().encode(), b"")
        self.assertEqual(m.LoadModelRequest(options={}).encode(), b"")

    def test_range_checks(self) -> None:
        for bad in [Scalars(u32=-1), Scalars(u32=2**32), Scalars(i32=2**31), Scalars(s32=-(2**31) - 1),
                    Scalars(u64=2**64)]:
            with self.assertRaises(ValueError):
                bad.encode()
        with self.assertRaises(TypeError):
            m.Hello(client=b"bytes").encode()  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            m.Media(data="text").encode()  # type: ignore[arg-type]

    def test_uint32_truncates_and_int32_sign_extends_on_decode(self) -> None:
        # protobuf reads a uint32 from a 64-bit varint by truncation; int32 from a 10-byte varint.
        self.assertEqual(Scalars.decode(bytes([0x08]) + varint(2**32 + 5)).u32, 5)
        self.assertEqual(Scalars.decode(bytes([0x18]) + varint(2**64 - 7)).i32, -7)


class MessageTests(unittest.TestCase):
    def test_samples_round_trip(self) -> None:
        for name, msg in sample_messages():
            with self.subTest(name=name):
                data = msg.encode()
                back = type(msg).decode(data)
                self.assertEqual(back, msg)
                self.assertEqual(back.encode(), data)

    def test_random_messages_round_trip(self) -> None:
        rng = random.Random(5)
        for cls in m.ALL_MESSAGES.values():
            for _ in range(20):
                msg = random_message(cls, rng)
                data = msg.encode()
                back = cls.decode(data)
                self.assertEqual(back, msg, cls.__name__)
                self.assertEqual(back.encode(), data)

    def test_floats_decode_to_array_and_accept_numpy(self) -> None:
        v = m.Vector.decode(m.Vector(values=[0.25, 3.0]).encode())
        self.assertIsInstance(v.values, array.array)
        self.assertEqual(list(v.values), [0.25, 3.0])
        try:
            import numpy as np
        except ImportError:
            self.skipTest("NumPy not installed (only the NumPy input path is skipped)")
        a = np.array([[1.0, 2.0], [3.0, 4.5]], dtype=np.float64)
        self.assertEqual(m.Vector(values=a).encode(), m.Vector(values=[1.0, 2.0, 3.0, 4.5]).encode())

    def test_unpacked_floats_are_accepted(self) -> None:
        data = b"".join(b"\x0d" + struct.pack("<f", x) for x in (1.0, 2.0)) + b"\x0a\x04" + struct.pack("<f", 3.0)
        self.assertEqual(list(m.Vector.decode(data).values), [1.0, 2.0, 3.0])

    def test_oneof_last_member_wins(self) -> None:
        data = m.Input(text="a").encode() + m.Input(media=m.Media(data=b"x")).encode()
        got = m.Input.decode(data)
        self.assertIsNone(got.text)
        self.assertEqual(got.media, m.Media(data=b"x"))
        data = m.Input(media=m.Media(data=b"x")).encode() + m.Input(text="b").encode()
        self.assertEqual(m.Input.decode(data), m.Input(text="b"))

    def test_singular_field_last_wins_and_messages_merge(self) -> None:
        data = m.Hello(major=1, client="a").encode() + m.Hello(major=2).encode()
        self.assertEqual(m.Hello.decode(data), m.Hello(major=2, client="a"))
        a = m.LoadPluginResponse(plugin=m.PluginInfo(name="n", path="/p")).encode()
        b = m.LoadPluginResponse(plugin=m.PluginInfo(version="2")).encode()
        self.assertEqual(m.LoadPluginResponse.decode(a + b).plugin, m.PluginInfo(name="n", version="2", path="/p"))

    def test_map_round_trip_and_duplicate_key(self) -> None:
        req = m.LoadModelRequest(name="n", plugin="p", options={"b": "2", "a": "1", "": "empty key"})
        self.assertEqual(m.LoadModelRequest.decode(req.encode()), req)
        dup = m.LoadModelRequest(options={"k": "1"}).encode() + m.LoadModelRequest(options={"k": "2"}).encode()
        self.assertEqual(m.LoadModelRequest.decode(dup).options, {"k": "2"})

    def test_unknown_fields_are_skipped(self) -> None:
        known = m.Hello(major=1, minor=2, client="c").encode()
        unknown = (bytes([15 << 3 | 0]) + varint(2**63) +           # varint
                   bytes([16 << 3 | 1, 1]) + b"\x01" * 8 +          # fixed64 (two-byte tag)
                   bytes([17 << 3 | 2 | 0x80, 1]) + b"\x03abc" +    # length-delimited
                   bytes([18 << 3 | 5 | 0x80, 1]) + b"\x00" * 4)   # fixed32
        self.assertEqual(m.Hello.decode(unknown + known + unknown), m.Hello(major=1, minor=2, client="c"))

    def test_repeated_messages_between_unknown_fields(self) -> None:
        # Repeated message fields take the decoder's inline path: order, unknown fields around
        # them and errors inside them behave as on the general path.
        hits = [m.SearchHit(key=f"k{i}", score=float(i), metadata="{}") for i in range(3)]
        body = b"".join(b"\x0a" + varint(len(h.encode())) + h.encode() + b"\x78\x05" for h in hits)
        result = m.SearchResult.decode(body)
        self.assertEqual([h.key for h in result.hits], ["k0", "k1", "k2"])
        self.assertEqual([h.score for h in result.hits], [0.0, 1.0, 2.0])
        bad_hit = b"\x0a\x02\xc3\x28"  # key: invalid UTF-8
        with self.assertRaisesRegex(DecodeError, "SearchHit: field 1 \\(key\\) is not valid UTF-8"):
            m.SearchResponse.decode(b"\x0a\x06\x0a\x04" + bad_hit)

    def test_malformed_input_raises_decode_error(self) -> None:
        bad = {
            "truncated varint": b"\x08\x80",
            "truncated string": b"\x1a\x05ab",
            "wrong wire type": b"\x0d\x00\x00\x00\x00",          # major (varint) as fixed32
            "invalid UTF-8": b"\x1a\x02\xc3\x28",
            "field number 0": b"\x00\x01",
            "group wire type": b"\x0b",
            "truncated fixed64": b"\x79\x00\x00",
        }
        for what, data in bad.items():
            with self.subTest(what=what):
                with self.assertRaises(DecodeError):
                    m.Hello.decode(data)
        with self.assertRaisesRegex(DecodeError, "multiple of 4"):
            m.Vector.decode(b"\x0a\x03abc")
        with self.assertRaisesRegex(DecodeError, "truncated"):
            m.EmbedResponse.decode(b"\x1a\x10\x0a")

    def test_iter_fields(self) -> None:
        fields = list(_proto.iter_fields(m.Hello(major=3, client="z").encode()))
        self.assertEqual(fields, [(1, 0, 3), (3, 2, b"z")])


if __name__ == "__main__":
    unittest.main()
