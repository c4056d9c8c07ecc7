/// Appends protobuf wire-format fields to a byte buffer.
///
/// The field helpers follow proto3 semantics: a scalar equal to its default (0, false, empty)
/// is not written at all, so the output matches what stock protobuf libraries produce.
/// Repeated floats are written packed. Embedded messages are always written when called.
public struct ProtoWriter: Sendable {
    /// The encoded bytes so far.
    public private(set) var bytes: [UInt8]

    /// Creates an empty writer, reserving `capacity` bytes.
    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: Primitives

    /// Appends `value` as a base-128 varint (1–10 bytes).
    public mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Appends a field tag: `(field << 3) | wireType`.
    public mutating func writeTag(_ field: Int, _ type: WireType) {
        writeVarint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    /// Appends 4 little-endian bytes.
    public mutating func writeFixed32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    /// Appends 8 little-endian bytes.
    public mutating func writeFixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// Appends a length prefix and then `data`.
    public mutating func writeLengthDelimited(_ data: some Collection<UInt8>) {
        writeVarint(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    /// ZigZag-maps a signed value so that small magnitudes encode short (`sint32`/`sint64`).
    public static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    // MARK: Fields (proto3 defaults are skipped)

    /// `uint32`/`uint64` field.
    public mutating func uint(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(field, .varint); writeVarint(value)
    }

    /// `int32`/`int64`/enum field; negative values take 10 bytes (sign-extended), as protobuf does.
    public mutating func int(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        writeTag(field, .varint); writeVarint(UInt64(bitPattern: value))
    }

    /// `sint32`/`sint64` field (ZigZag).
    public mutating func sint(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        writeTag(field, .varint); writeVarint(Self.zigzag(value))
    }

    /// `bool` field.
    public mutating func bool(_ field: Int, _ value: Bool) {
        guard value else { return }
        writeTag(field, .varint); writeVarint(1)
    }

    /// `fixed32` field.
    public mutating func fixed32(_ field: Int, _ value: UInt32) {
        guard value != 0 else { return }
        writeTag(field, .fixed32); writeFixed32(value)
    }

    /// `fixed64` field.
    public mutating func fixed64(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(field, .fixed64); writeFixed64(value)
    }

    /// `float` field (skipped only for +0.0, like protobuf).
    public mutating func float(_ field: Int, _ value: Float) {
        guard value.bitPattern != 0 else { return }
        writeTag(field, .fixed32); writeFixed32(value.bitPattern)
    }

    /// `double` field (skipped only for +0.0).
    public mutating func double(_ field: Int, _ value: Double) {
        guard value.bitPattern != 0 else { return }
        writeTag(field, .fixed64); writeFixed64(value.bitPattern)
    }

    /// `string` field.
    public mutating func string(_ field: Int, _ value: String) {
        guard !value.isEmpty else { return }
        writeTag(field, .lengthDelimited); writeLengthDelimited(Array(value.utf8))
    }

    /// One element of a `repeated string` field (written even when empty).
    public mutating func repeatedStringElement(_ field: Int, _ value: String) {
        writeTag(field, .lengthDelimited); writeLengthDelimited(Array(value.utf8))
    }

    /// `bytes` field.
    public mutating func bytes(_ field: Int, _ value: [UInt8]) {
        guard !value.isEmpty else { return }
        writeTag(field, .lengthDelimited); writeLengthDelimited(value)
    }

    /// `repeated float` field, packed.
    public mutating func packedFloats(_ field: Int, _ values: [Float]) {
        guard !values.isEmpty else { return }
        writeTag(field, .lengthDelimited)
        writeVarint(UInt64(values.count * 4))
        bytes.reserveCapacity(bytes.count + values.count * 4)
        for v in values { writeFixed32(v.bitPattern) }
    }

    /// Embedded message field (always written, even when the message is empty).
    public mutating func message(_ field: Int, _ value: some ProtoMessage) {
        var inner = ProtoWriter()
        value.encode(to: &inner)
        writeTag(field, .lengthDelimited)
        writeLengthDelimited(inner.bytes)
    }
}
