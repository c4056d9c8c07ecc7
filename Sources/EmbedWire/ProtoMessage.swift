/// A message of `proto/embedd.proto`, encoded and decoded by hand-written code.
///
/// Conformers implement `decodeField` (return false for fields they do not know, which are
/// then skipped) and `encode(to:)`. The extension provides whole-buffer entry points.
public protocol ProtoMessage: Sendable, Equatable {
    /// The empty message (all fields at their proto3 defaults).
    init()
    /// Decodes one field into `self`; returns false when `field` is unknown.
    mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool
    /// Appends every non-default field in field-number order.
    func encode(to writer: inout ProtoWriter)
}

extension ProtoMessage {
    /// Decodes a message that spans all of `reader`'s remaining bytes.
    public init(from reader: inout ProtoReader) throws(WireError) {
        self.init()
        while let (field, type) = try reader.next() {
            if try !decodeField(field, type, from: &reader) {
                try reader.skip(type)
            }
        }
    }

    /// Decodes a message from its serialized bytes.
    public init(serializedBytes bytes: [UInt8]) throws(WireError) {
        var reader = ProtoReader(bytes, messageName: String(describing: Self.self))
        try self.init(from: &reader)
    }

    /// The message in protobuf wire format.
    public func serializedBytes() -> [UInt8] {
        var writer = ProtoWriter()
        encode(to: &writer)
        return writer.bytes
    }
}
