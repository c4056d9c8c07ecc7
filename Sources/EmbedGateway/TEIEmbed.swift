import EmbedJSON
import EmbedWire

/// Hugging Face text-embeddings-inference's `POST /embed`
/// (https://huggingface.github.io/text-embeddings-inference/): `inputs`, `normalize`,
/// `truncate`, `truncation_direction`, `prompt_name`; the answer is an array of vectors.
public struct TEIEmbed: Equatable, Sendable {
    public var call: EmbedCall
    /// Whether the vectors must have unit length (TEI's default: true).
    public var normalize: Bool

    public static func parse(_ body: [UInt8]) throws(APIError) -> TEIEmbed {
        let object = try RequestBody.object(body)
        let texts = try RequestBody.texts(object["inputs"], field: "inputs")
        var call = EmbedCall(texts: texts)
        // TEI's truncate defaults to the server's --auto-truncate; ours is the model's `truncate:`.
        switch try RequestBody.bool(object, "truncate") {
        case nil: call.truncation = .default
        case true?: call.truncation = .on
        case false?: call.truncation = .off
        }
        switch try RequestBody.string(object, "truncation_direction") {
        case nil, "Right", "right": break
        case let other?:
            throw .invalid("'truncation_direction' \"\(other)\" is not supported: embedd keeps the start of a text (Right)",
                           param: "truncation_direction")
        }
        call.prompt = try RequestBody.string(object, "prompt_name") ?? ""
        call.model = try RequestBody.string(object, "model") ?? ""
        return TEIEmbed(call: call, normalize: try RequestBody.bool(object, "normalize") ?? true)
    }

    /// The vectors as TEI returns them. A model whose vectors are not normalized gets them
    /// scaled to unit length when `normalize` is true; a model that always normalizes cannot
    /// answer `normalize: false` and says so rather than return something else.
    public func response(_ r: EmbedResponse, modelNormalizes: Bool) throws(APIError) -> String {
        if !normalize && modelNormalizes {
            throw .invalid("model '\(r.model)' always returns unit-length vectors; send normalize=true or leave it out", param: "normalize")
        }
        var out = ""
        out.reserveCapacity(r.vectors.count * Int(r.dim) * 12 + 2)
        out += "["
        for (i, v) in r.vectors.enumerated() {
            if i > 0 { out += "," }
            if normalize && !modelNormalizes {
                var sum: Float = 0
                for x in v.values { sum += x * x }
                let scale: Float = sum > 0 ? 1 / sum.squareRoot() : 1
                JSONWriter.appendArray(v.values.map { $0 * scale }, to: &out)
            } else {
                JSONWriter.appendArray(v.values, to: &out)
            }
        }
        out += "]"
        return out
    }

    /// Whether a daemon error is TEI's "input too long" (413 there): the daemon refuses an
    /// over-long text under truncation=off with INVALID_ARGUMENT saying "truncation is off".
    public static func isTooLong(_ code: StatusCode, _ message: String) -> Bool {
        code == .invalidArgument && message.contains("truncation is off")
    }
}
