import EmbedJSON
import EmbedWire

/// `GET /v1/models` (OpenAI's list shape) and TEI's `GET /info`, from the daemon's ModelInfo.
public enum ModelsResponse {
    static func openAIModel(_ m: ModelInfo) -> JSONValue {
        .object([("id", .string(m.name)), ("object", .string("model")), ("created", .number(JSONNumber(0))),
                 ("owned_by", .string("embedd"))])
    }

    /// Every model the daemon has (ready or not; OpenAI's shape has no state).
    public static func openAIList(_ models: [ModelInfo]) -> String {
        JSONWriter.compact(.object([("object", .string("list")), ("data", .array(models.map(openAIModel)))]))
    }

    /// One model, or a 404 shaped as OpenAI's.
    public static func openAIModel(named name: String, in models: [ModelInfo]) throws(APIError) -> String {
        guard let m = models.first(where: { $0.name == name }) else { throw modelNotFound(name, models) }
        return JSONWriter.compact(openAIModel(m))
    }

    static func modelNotFound(_ name: String, _ models: [ModelInfo]) -> APIError {
        APIError(status: 404, "The model '\(name)' does not exist (embedd has: \(models.map(\.name).joined(separator: ", ")))",
                 param: "model", code: "model_not_found")
    }

    /// The model a request names, or the default one (nil when the daemon has none).
    public static func resolve(_ name: String, in models: [ModelInfo]) -> ModelInfo? {
        name.isEmpty ? (models.first(where: \.isDefault) ?? models.first) : models.first(where: { $0.name == name })
    }

    /// TEI's `/info` for the default model.
    public static func teiInfo(_ m: ModelInfo, version: String, maxConnections: Int, maxInputsPerCall: Int) -> String {
        let n = { (v: Int) in JSONValue.number(JSONNumber(Int64(v))) }
        return JSONWriter.compact(.object([
            ("model_id", .string(m.name)),
            ("model_sha", .null),
            ("model_dtype", .string("float32")),
            ("model_type", .object([("embedding", .object([("pooling", .string("model"))]))])),
            ("max_concurrent_requests", n(maxConnections)),
            ("max_input_length", n(Int(m.maxTokens))),
            ("max_batch_tokens", n(Int(m.maxTokens) * max(1, Int(m.maxBatch)))),
            ("max_batch_requests", .null),
            ("max_client_batch_size", n(maxInputsPerCall)),
            ("auto_truncate", .bool(m.truncate)),
            ("tokenization_workers", n(1)),
            ("version", .string(version)),
            ("embedd_model_state", .string(m.state == .ready ? "ready" : m.state == .loading ? "loading" : "failed")),
            ("embedd_dimension", n(Int(m.dimension))),
        ]))
    }
}
