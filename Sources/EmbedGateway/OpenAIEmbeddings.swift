import EmbedJSON
import EmbedWire

/// OpenAI's `POST /v1/embeddings` (https://platform.openai.com/docs/api-reference/embeddings):
/// the request's fields to an `EmbedCall`, and the daemon's `EmbedResponse` to OpenAI's answer.
public struct OpenAIEmbeddings: Equatable, Sendable {
    public enum Encoding: String, Sendable { case float, base64 }

    public var call: EmbedCall
    public var encoding: Encoding
    /// `dimensions`: accepted only when it equals the model's dimension (embedd's models do not
    /// shorten their vectors).
    public var dimensions: Int?

    /// Reads a request body. `user` and unknown fields are ignored, as OpenAI does.
    public static func parse(_ body: [UInt8]) throws(APIError) -> OpenAIEmbeddings {
        let object = try RequestBody.object(body)
        let texts = try RequestBody.texts(object["input"], field: "input")
        let model = try RequestBody.string(object, "model") ?? ""
        let encoding: Encoding
        switch try RequestBody.string(object, "encoding_format") {
        case nil, "float": encoding = .float
        case "base64": encoding = .base64
        case let other?: throw .invalid("'encoding_format' must be \"float\" or \"base64\" (got \"\(other)\")", param: "encoding_format")
        }
        let dimensions = try RequestBody.positiveInt(object, "dimensions")
        return OpenAIEmbeddings(call: EmbedCall(model: model, texts: texts), encoding: encoding, dimensions: dimensions)
    }

    /// Checks the answer against `dimensions`, then writes OpenAI's response: a list of
    /// `{"object":"embedding","index":i,"embedding":[…] or "base64…"}` with the model's name and
    /// `usage.prompt_tokens` = `total_tokens` = the daemon's token count.
    public func response(_ r: EmbedResponse) throws(APIError) -> String {
        if let dimensions, dimensions != Int(r.dim) {
            throw .invalid("model '\(r.model)' gives \(r.dim)-dimensional vectors and cannot shorten them: "
                + "send dimensions=\(r.dim) or leave 'dimensions' out", param: "dimensions")
        }
        var out = ""
        out.reserveCapacity(r.vectors.count * (encoding == .float ? Int(r.dim) * 12 : Int(r.dim) * 6) + 160)
        out += "{\"object\":\"list\",\"data\":["
        for (i, v) in r.vectors.enumerated() {
            if i > 0 { out += "," }
            out += "{\"object\":\"embedding\",\"index\":\(i),\"embedding\":"
            switch encoding {
            case .float: JSONWriter.appendArray(v.values, to: &out)
            case .base64:
                out += "\""
                Base64.encodeFloats(v.values, to: &out)
                out += "\""
            }
            out += "}"
        }
        out += "],\"model\":"
        JSONWriter.appendQuoted(r.model, to: &out)
        out += ",\"usage\":{\"prompt_tokens\":\(r.totalTokens),\"total_tokens\":\(r.totalTokens)}}"
        return out
    }
}
