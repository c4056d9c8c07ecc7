/// Response of admin method ReloadPlugin: the models after the swap.
///
/// Mirrors `message ReloadPluginResponse` in proto/embedd.proto.
public struct ReloadPluginResponse: ProtoMessage {
    /// Field 1 (`models`).
    public var models: [ModelInfo] = []

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(models: [ModelInfo] = []) {
        self.models = models
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: models.append(try reader.readMessage(field, type, as: ModelInfo.self))
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        for v in models { writer.message(1, v) }
    }
}
