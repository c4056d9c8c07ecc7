/// Response of admin method LoadModel.
///
/// Mirrors `message LoadModelResponse` in proto/embedd.proto.
public struct LoadModelResponse: ProtoMessage {
    /// Field 1 (`model`).
    public var model: ModelInfo? = nil

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(model: ModelInfo? = nil) {
        self.model = model
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: model = try reader.readMessage(field, type, as: ModelInfo.self)
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        if let model { writer.message(1, model) }
    }
}
