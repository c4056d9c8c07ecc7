/// Response of method Embed: `vectors[i]` embeds `inputs[i]`.
///
/// Mirrors `message EmbedResponse` in proto/embedd.proto.
public struct EmbedResponse: ProtoMessage {
    /// Field 1 (`model`).
    public var model: String = ""
    /// Field 2 (`dim`).
    public var dim: UInt32 = 0
    /// Field 3 (`vectors`).
    public var vectors: [Vector] = []
    /// Field 4 (`model_version`).
    public var modelVersion: String = ""
    /// Field 5 (`generation`).
    public var generation: UInt64 = 0

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(model: String = "", dim: UInt32 = 0, vectors: [Vector] = [], modelVersion: String = "", generation: UInt64 = 0) {
        self.model = model
        self.dim = dim
        self.vectors = vectors
        self.modelVersion = modelVersion
        self.generation = generation
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: model = try reader.readString(field, type)
        case 2: dim = try reader.readUInt32(field, type)
        case 3: vectors.append(try reader.readMessage(field, type, as: Vector.self))
        case 4: modelVersion = try reader.readString(field, type)
        case 5: generation = try reader.readUInt64(field, type)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, model)
        writer.uint(2, UInt64(dim))
        for v in vectors { writer.message(3, v) }
        writer.string(4, modelVersion)
        writer.uint(5, generation)
    }
}
