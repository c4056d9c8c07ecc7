/// Request of method Embed (id 5). An empty `model` selects the default model.
///
/// Mirrors `message EmbedRequest` in proto/embedd.proto.
public struct EmbedRequest: ProtoMessage {
    /// Field 1 (`model`).
    public var model: String = ""
    /// Field 2 (`inputs`).
    public var inputs: [Input] = []

    /// Creates the empty message.
    public init() {}

    /// Creates the message; omitted fields take their proto3 defaults.
    public init(model: String = "", inputs: [Input] = []) {
        self.model = model
        self.inputs = inputs
    }

    public mutating func decodeField(_ field: Int, _ type: WireType, from reader: inout ProtoReader) throws(WireError) -> Bool {
        switch field {
        case 1: model = try reader.readString(field, type)
        case 2: inputs.append(try reader.readMessage(field, type, as: Input.self))
        default: return false
        }
        return true
    }

    public func encode(to writer: inout ProtoWriter) {
        writer.string(1, model)
        for v in inputs { writer.message(2, v) }
    }
}
