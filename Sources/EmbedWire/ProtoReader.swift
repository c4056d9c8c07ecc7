/// Reads protobuf wire-format fields from a byte buffer.
///
/// Usage: call `next()` for each tag, then one of the `read…` methods matching the field, or
/// `skip(_:)` for fields the message does not know (unknown fields are skipped, as proto3
/// requires). Every read is bounds-checked; bad input throws `WireError`, never traps.
public struct ProtoReader: Sendable {
    private let buffer: [UInt8]
    private var index: Int
    private let end: Int
    /// Name of the message being decoded, used in error messages.
    public var messageName: String

    /// Creates a reader over `buffer[range]`.
    public init(_ buffer: [UInt8], range: Range<Int>? = nil, messageName: String = "message") {
        self.buffer = buffer
        let r = range ?? 0..<buffer.count
        self.index = r.lowerBound
        self.end = r.upperBound
        self.messageName = messageName
    }

    /// True when every byte has been consumed.
    public var isAtEnd: Bool { index >= end }

    /// Reads the next tag, or returns nil at the end of the buffer.
    public mutating func next() throws(WireError) -> (field: Int, type: WireType)? {
        guard index < end else { return nil }
        let tag = try readVarint()
        let rawType = Int(tag & 7)
        let field = tag >> 3
        guard field > 0, field <= 0x1FFF_FFFF else { throw .invalidFieldNumber(Int(truncatingIfNeeded: field)) }
        guard let type = WireType(rawValue: rawType) else {
            throw .unsupportedWireType(field: Int(field), rawType: rawType)
        }
        return (Int(field), type)
    }

    /// Reads a base-128 varint.
    public mutating func readVarint() throws(WireError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < end else { throw .truncated("varint in \(messageName)") }
            let byte = buffer[index]
            index += 1
            if shift == 63 && byte > 1 { throw .malformedVarint }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw .malformedVarint }
        }
    }

    /// Reads 4 little-endian bytes.
    public mutating func readFixed32() throws(WireError) -> UInt32 {
        guard end - index >= 4 else { throw .truncated("fixed32 in \(messageName)") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(buffer[index + i]) << UInt32(8 * i) }
        index += 4
        return v
    }

    /// Reads 8 little-endian bytes.
    public mutating func readFixed64() throws(WireError) -> UInt64 {
        guard end - index >= 8 else { throw .truncated("fixed64 in \(messageName)") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(buffer[index + i]) << UInt64(8 * i) }
        index += 8
        return v
    }

    /// Reads a length prefix and returns the range of the bytes it covers (consuming them).
    public mutating func readLengthDelimitedRange() throws(WireError) -> Range<Int> {
        let length = try readVarint()
        guard length <= UInt64(end - index) else { throw .truncated("length-delimited field in \(messageName)") }
        let r = index..<(index + Int(length))
        index = r.upperBound
        return r
    }

    /// Skips a field of the given wire type (unknown fields).
    public mutating func skip(_ type: WireType) throws(WireError) {
        switch type {
        case .varint: _ = try readVarint()
        case .fixed32: _ = try readFixed32()
        case .fixed64: _ = try readFixed64()
        case .lengthDelimited: _ = try readLengthDelimitedRange()
        }
    }

    // MARK: Typed reads (each checks the wire type first)

    private func expect(_ field: Int, _ got: WireType, _ expected: WireType) throws(WireError) {
        if got != expected { throw .wrongWireType(message: messageName, field: field, got: got, expected: expected) }
    }

    /// `uint64` (and enum values read as raw numbers).
    public mutating func readUInt64(_ field: Int, _ type: WireType) throws(WireError) -> UInt64 {
        try expect(field, type, .varint)
        return try readVarint()
    }

    /// `uint32`: protobuf truncates larger varints to 32 bits, and so do we.
    public mutating func readUInt32(_ field: Int, _ type: WireType) throws(WireError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readUInt64(field, type))
    }

    /// `int64`.
    public mutating func readInt64(_ field: Int, _ type: WireType) throws(WireError) -> Int64 {
        Int64(bitPattern: try readUInt64(field, type))
    }

    /// `int32` / enum.
    public mutating func readInt32(_ field: Int, _ type: WireType) throws(WireError) -> Int32 {
        Int32(truncatingIfNeeded: try readUInt64(field, type))
    }

    /// `sint64` (ZigZag).
    public mutating func readSInt64(_ field: Int, _ type: WireType) throws(WireError) -> Int64 {
        let raw = try readUInt64(field, type)
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// `bool`.
    public mutating func readBool(_ field: Int, _ type: WireType) throws(WireError) -> Bool {
        try readUInt64(field, type) != 0
    }

    /// `float`.
    public mutating func readFloat(_ field: Int, _ type: WireType) throws(WireError) -> Float {
        try expect(field, type, .fixed32)
        return Float(bitPattern: try readFixed32())
    }

    /// `double`.
    public mutating func readDouble(_ field: Int, _ type: WireType) throws(WireError) -> Double {
        try expect(field, type, .fixed64)
        return Double(bitPattern: try readFixed64())
    }

    /// `bytes`.
    public mutating func readBytes(_ field: Int, _ type: WireType) throws(WireError) -> [UInt8] {
        try expect(field, type, .lengthDelimited)
        return Array(buffer[try readLengthDelimitedRange()])
    }

    /// `string`; rejects invalid UTF-8 as protobuf does for proto3 strings.
    public mutating func readString(_ field: Int, _ type: WireType) throws(WireError) -> String {
        try expect(field, type, .lengthDelimited)
        let r = try readLengthDelimitedRange()
        guard let s = String(validating: buffer[r], as: UTF8.self) else {
            throw .invalidUTF8(message: messageName, field: field)
        }
        return s
    }

    /// One element (unpacked) or a packed run of a `repeated float`, appended to `values`.
    public mutating func readFloats(_ field: Int, _ type: WireType, into values: inout [Float]) throws(WireError) {
        switch type {
        case .fixed32:
            values.append(Float(bitPattern: try readFixed32()))
        case .lengthDelimited:
            let r = try readLengthDelimitedRange()
            guard r.count % 4 == 0 else { throw .truncated("packed float field \(field) in \(messageName)") }
            values.reserveCapacity(values.count + r.count / 4)
            var i = r.lowerBound
            while i < r.upperBound {
                let bits = UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24
                values.append(Float(bitPattern: bits))
                i += 4
            }
        default:
            throw .wrongWireType(message: messageName, field: field, got: type, expected: .lengthDelimited)
        }
    }

    /// Embedded message.
    public mutating func readMessage<M: ProtoMessage>(_ field: Int, _ type: WireType, as: M.Type = M.self) throws(WireError) -> M {
        try expect(field, type, .lengthDelimited)
        let r = try readLengthDelimitedRange()
        var inner = ProtoReader(buffer, range: r, messageName: String(describing: M.self))
        return try M(from: &inner)
    }
}
