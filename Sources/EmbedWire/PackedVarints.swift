// `repeated uint32` support for ProtoReader/ProtoWriter (the store's ACL lists), kept in its
// own file so the core codec files stay as they are.

extension ProtoReader {
    /// One element (unpacked) or a packed run of a `repeated uint32`, appended to `values`.
    /// Like protobuf, each element is truncated to 32 bits.
    public mutating func readUInt32s(_ field: Int, _ type: WireType, into values: inout [UInt32]) throws(WireError) {
        switch type {
        case .varint:
            values.append(UInt32(truncatingIfNeeded: try readVarint()))
        case .lengthDelimited:
            let packed = try readBytes(field, type)
            var inner = ProtoReader(packed, messageName: messageName)
            while !inner.isAtEnd { values.append(UInt32(truncatingIfNeeded: try inner.readVarint())) }
        default:
            throw .wrongWireType(message: messageName, field: field, got: type, expected: .lengthDelimited)
        }
    }
}

extension ProtoWriter {
    /// `repeated uint32` field, packed (proto3's default), skipped when empty.
    public mutating func packedUInt32s(_ field: Int, _ values: [UInt32]) {
        guard !values.isEmpty else { return }
        var inner = ProtoWriter()
        for v in values { inner.writeVarint(UInt64(v)) }
        writeTag(field, .lengthDelimited)
        writeLengthDelimited(inner.bytes)
    }
}
