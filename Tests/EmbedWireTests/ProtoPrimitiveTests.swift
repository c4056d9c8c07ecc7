import Testing
@testable import EmbedWire

@Suite struct ProtoPrimitiveTests {
    @Test func varintKnownEncodings() throws {
        let cases: [(UInt64, [UInt8])] = [
            (0, [0x00]), (1, [0x01]), (127, [0x7F]), (128, [0x80, 0x01]), (300, [0xAC, 0x02]),
            (UInt64(UInt32.max), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
            (UInt64.max, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
        ]
        for (value, bytes) in cases {
            var w = ProtoWriter()
            w.writeVarint(value)
            #expect(w.bytes == bytes)
            var r = ProtoReader(bytes)
            #expect(try r.readVarint() == value)
            #expect(r.isAtEnd)
        }
    }

    @Test func varintRejectsOverlongAndTruncated() {
        var r = ProtoReader([UInt8](repeating: 0xFF, count: 11))
        #expect(throws: WireError.malformedVarint) { try r.readVarint() }
        var r2 = ProtoReader([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02])  // > 64 bits
        #expect(throws: WireError.malformedVarint) { try r2.readVarint() }
        var r3 = ProtoReader([0x80, 0x80])
        #expect(throws: WireError.self) { try r3.readVarint() }
    }

    @Test func zigzagMatchesProtobufTable() {
        #expect(ProtoWriter.zigzag(0) == 0)
        #expect(ProtoWriter.zigzag(-1) == 1)
        #expect(ProtoWriter.zigzag(1) == 2)
        #expect(ProtoWriter.zigzag(-2) == 3)
        #expect(ProtoWriter.zigzag(2147483647) == 4294967294)
        #expect(ProtoWriter.zigzag(-2147483648) == 4294967295)
        for v: Int64 in [0, 1, -1, 63, -64, 1 << 40, -(1 << 40), .max, .min] {
            var w = ProtoWriter()
            w.sint(1, v)
            var r = ProtoReader(w.bytes)
            if v == 0 { #expect(w.bytes.isEmpty); continue }
            let (f, t) = try! r.next()!
            #expect(f == 1)
            #expect(try! r.readSInt64(f, t) == v)
        }
    }

    @Test func fixedWidthAndFloats() throws {
        var w = ProtoWriter()
        w.fixed32(1, 0x0102_0304)
        w.fixed64(2, 0x0102_0304_0506_0708)
        w.float(3, 1.5)
        w.double(4, -2.25)
        w.int(5, -1)
        #expect(Array(w.bytes.prefix(5)) == [0x0D, 0x04, 0x03, 0x02, 0x01])
        var r = ProtoReader(w.bytes)
        var (f, t) = try r.next()!
        #expect(try r.readFixed32() == 0x0102_0304 && f == 1 && t == .fixed32)
        (f, t) = try r.next()!
        #expect(try r.readFixed64() == 0x0102_0304_0506_0708)
        (f, t) = try r.next()!
        #expect(try r.readFloat(f, t) == 1.5)
        (f, t) = try r.next()!
        #expect(try r.readDouble(f, t) == -2.25)
        (f, t) = try r.next()!
        #expect(try r.readInt32(f, t) == -1)
        #expect(r.isAtEnd)
        // -1 as int32 takes ten bytes on the wire, as in every protobuf implementation.
        #expect(w.bytes.count == 5 + 9 + 5 + 9 + 11)
    }

    @Test func packedAndUnpackedFloatsBothDecode() throws {
        var packed = ProtoWriter()
        packed.packedFloats(1, [1, -2, 0.5])
        #expect(packed.bytes.prefix(2) == [0x0A, 12])
        var unpacked = ProtoWriter()
        for v: Float in [1, -2, 0.5] { unpacked.writeTag(1, .fixed32); unpacked.writeFixed32(v.bitPattern) }
        for bytes in [packed.bytes, unpacked.bytes] {
            let v = try Vector(serializedBytes: bytes)
            #expect(v.values == [1, -2, 0.5])
        }
    }

    @Test func unknownFieldsAreSkippedOfEveryWireType() throws {
        var w = ProtoWriter()
        w.uint(99, 12345)             // varint
        w.fixed64(100, 7)             // I64
        w.string(101, "future")       // LEN
        w.fixed32(102, 9)             // I32
        w.string(3, "embedctl")       // a known field after the unknown ones
        w.uint(1, 1)
        let hello = try Hello(serializedBytes: w.bytes)
        #expect(hello == Hello(major: 1, minor: 0, client: "embedctl"))
    }

    @Test func badInputThrowsClearErrors() {
        // Group wire types are not supported.
        #expect(throws: WireError.unsupportedWireType(field: 1, rawType: 3)) { try Hello(serializedBytes: [0x0B]) }
        // Field number 0.
        #expect(throws: WireError.invalidFieldNumber(0)) { try Hello(serializedBytes: [0x00, 0x01]) }
        // Length beyond the buffer.
        #expect(throws: WireError.self) { try Hello(serializedBytes: [0x1A, 0x05, 0x61]) }
        // Known field, wrong wire type: `client` (3) sent as a varint.
        #expect(throws: WireError.wrongWireType(message: "Hello", field: 3, got: .varint, expected: .lengthDelimited)) {
            try Hello(serializedBytes: [0x18, 0x01])
        }
        // Invalid UTF-8 in a string.
        #expect(throws: WireError.invalidUTF8(message: "Hello", field: 3)) { try Hello(serializedBytes: [0x1A, 0x02, 0xC3, 0x28]) }
        // Packed floats whose length is not a multiple of 4.
        #expect(throws: WireError.self) { try Vector(serializedBytes: [0x0A, 0x03, 1, 2, 3]) }
        let e = WireError.frameTooLarge(length: 10, limit: 5)
        #expect(e.description.contains("10") && e.description.contains("5"))
    }

    @Test func lastValueWinsForScalarsAndMergedForRepeated() throws {
        var w = ProtoWriter()
        w.string(1, "a"); w.string(1, "b")
        w.message(2, Input.text("x")); w.message(2, Input.text("y"))
        let req = try EmbedRequest(serializedBytes: w.bytes)
        #expect(req.model == "b")
        #expect(req.inputs == [.text("x"), .text("y")])
    }
}
