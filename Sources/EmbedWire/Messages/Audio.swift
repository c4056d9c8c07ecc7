/// Decoded mono float32 PCM.
///
/// Mirrors `message Audio` in proto/embedd.proto.
public struct Audio: ProtoMessage {
    /// Field 1 (`samples`).
    public var samples: [Float] = []
    /// Field 2 (`sample_rate`).
    public var sampleRate: UInt32 = 0

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(samples: [Float] = [], sampleRate: UInt32 = 0) {
        self.samples = samples
        self.sampleRate = sampleRate
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: try reader.readFloats(field, type, into: &samples)
        case 2: sampleRate = try reader.readUInt32(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.packedFloats(1, samples)
        writer.uint(2, UInt64(sampleRate))
    }
}
