import EmbedJSON

extension JSONParseOptions {
    /// How model files (config.json, tokenizer.json, safetensors headers) are read: written by
    /// other tools, so loaded when slightly off — invalid UTF-8 and lone surrogates become
    /// U+FFFD, numbers are those Swift's `Double(String)` reads ("01", "+1" too), duplicate
    /// names are kept (lookups take the last) — with nesting up to 128 levels.
    static let modelFiles = JSONParseOptions(maxDepth: 128, duplicateKeys: .keepAll, invalidUnicode: .replace, numbers: .permissive)
}

extension JSONValue {
    /// Parses `bytes` as one JSON value of a model file; `name` labels errors
    /// ("config.json: invalid JSON: … at byte 12").
    public static func parse(_ bytes: UnsafeRawBufferPointer, name: String) throws(NNError) -> JSONValue {
        do { return try JSONValue.parse(bytes, options: .modelFiles) } catch { throw NNError.file(name, "invalid JSON: \(error)") }
    }

    /// Parses a byte array as one JSON value of a model file.
    public static func parse(_ bytes: [UInt8], name: String) throws(NNError) -> JSONValue {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(NNError) in try parse(raw, name: name) } }
        return try result.get()
    }
}
