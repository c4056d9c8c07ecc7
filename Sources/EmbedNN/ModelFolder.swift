import EmbedSys

/// Reads the files of a Hugging Face / sentence-transformers model folder, with errors that
/// name the file and the problem.
public enum ModelFolder {
    /// Largest JSON file accepted (tokenizer.json of big vocabularies is a few MB).
    static let maxJSONBytes = 64 * 1024 * 1024

    /// Reads and parses a JSON file.
    public static func readJSON(_ path: String) throws(NNError) -> JSONValue {
        guard FileSystem.exists(path) else { throw NNError.file(path, "missing file") }
        guard FileSystem.isRegularFile(path) else { throw NNError.file(path, "not a regular file") }
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path, limit: maxJSONBytes + 1) } catch { throw NNError.file(path, "cannot read: \(error)") }
        guard bytes.count <= maxJSONBytes else { throw NNError.file(path, "larger than \(maxJSONBytes) bytes") }
        return try JSONValue.parse(bytes, name: path)
    }

    /// Reads a JSON file if it exists (nil when absent; errors when present but broken).
    public static func readOptionalJSON(_ path: String) throws(NNError) -> JSONValue? {
        FileSystem.exists(path) ? try readJSON(path) : nil
    }

    /// An integer member, with an error naming the file and key when it is missing or wrong.
    static func int(_ json: JSONValue, _ key: String, _ path: String, default value: Int? = nil) throws(NNError) -> Int {
        guard let v = json[key] else {
            if let value { return value }
            throw NNError.file(path, "missing \"\(key)\"")
        }
        guard let i = v.int else { throw NNError.file(path, "\"\(key)\" must be an integer") }
        return i
    }
}
