import EmbedJSON

/// Reading a JSON request body and its fields, with errors that name the field.
enum RequestBody {
    /// The body as a JSON object.
    static func object(_ body: [UInt8]) throws(APIError) -> JSONValue {
        guard !body.isEmpty else { throw .invalid("the request has no body; send a JSON object") }
        let value: JSONValue
        do { value = try JSONValue.parse(body) } catch {
            throw .invalid("the request body is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object = value else { throw .invalid("the request body must be a JSON object, not \(value.typeName)") }
        return value
    }

    /// The texts of an `input` (OpenAI) or `inputs` (TEI) field: a string or an array of
    /// strings. Token ids (an array of integers, or of arrays of them) are refused with how to
    /// make LangChain and LlamaIndex send text instead.
    static func texts(_ value: JSONValue?, field: String) throws(APIError) -> [String] {
        guard let value, !value.isNull else { throw .invalid("'\(field)' is required: a string or an array of strings", param: field) }
        switch value {
        case .string(let s): return [s]
        case .array(let items):
            guard !items.isEmpty else { throw .invalid("'\(field)' is an empty array; send at least one string", param: field) }
            var texts: [String] = []
            texts.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                switch item {
                case .string(let s): texts.append(s)
                case .number, .array: throw tokenIDs(field)
                default: throw .invalid("'\(field)'[\(i)] is \(item.typeName); every item must be a string", param: field)
                }
            }
            return texts
        case .number: throw tokenIDs(field)
        default: throw .invalid("'\(field)' must be a string or an array of strings, not \(value.typeName)", param: field)
        }
    }

    static func tokenIDs(_ field: String) -> APIError {
        .invalid("""
            '\(field)' holds token ids, but embedd tokenizes text itself with the model's own tokenizer: send strings. \
            LangChain's OpenAIEmbeddings sends tiktoken ids by default: create it with check_embedding_ctx_length=False \
            (and tiktoken_enabled=False for a non-OpenAI model name).
            """, param: field)
    }

    static func string(_ object: JSONValue, _ field: String) throws(APIError) -> String? {
        guard let v = object[field], !v.isNull else { return nil }
        guard let s = v.string else { throw .invalid("'\(field)' must be a string, not \(v.typeName)", param: field) }
        return s
    }

    static func bool(_ object: JSONValue, _ field: String) throws(APIError) -> Bool? {
        guard let v = object[field], !v.isNull else { return nil }
        guard let b = v.bool else { throw .invalid("'\(field)' must be true or false, not \(v.typeName)", param: field) }
        return b
    }

    static func positiveInt(_ object: JSONValue, _ field: String) throws(APIError) -> Int? {
        guard let v = object[field], !v.isNull else { return nil }
        guard let n = v.int, n > 0 else { throw .invalid("'\(field)' must be a positive integer (got \(JSONWriter.compact(v)))", param: field) }
        return n
    }
}
