import EmbedJSON
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

    /// The folder's `model.safetensors`, the only weights format EmbedNN reads. A folder that
    /// has PyTorch's pickled weights instead gets an error naming the converter: unpickling
    /// them here could run code from the file, and a one-time conversion is checked once.
    public static func safetensorsPath(_ folder: String) throws(NNError) -> String {
        let path = folder + "/model.safetensors"
        if FileSystem.exists(path) { return path }
        let pickled = ["pytorch_model.bin", "pytorch_model.bin.index.json"].filter { FileSystem.exists(folder + "/" + $0) }
        if let found = pickled.first {
            // Short: a plugin's message has 256 bytes (EMBEDD_MESSAGE_CAPACITY).
            throw NNError("\(folder) has only PyTorch weights (\(found)), which embedd does not unpickle: run tools/convert-pytorch-bin on it once (writes model.safetensors)")
        }
        throw NNError.file(path, "missing file (embedd reads weights in safetensors format only)")
    }

    /// A fingerprint of a model folder for version strings and embedding-space ids: FNV-1a 64
    /// over the listed small files (absent ones are skipped), the weights file's size and
    /// 4 KiB samples every MiB of it. Cheap (no full read of hundreds of MB), yet it changes
    /// when the weights or tokenizer do. 16 hex digits.
    public static func fingerprint(_ folder: String, files: [String], weights: String) throws(NNError) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        func mix(_ bytes: UnsafeRawBufferPointer) {
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        }
        for file in files where FileSystem.isRegularFile(folder + "/" + file) {
            if let bytes = try? FileSystem.readFile(folder + "/" + file, limit: maxJSONBytes) { bytes.withUnsafeBytes { mix($0) } }
        }
        let path = folder + "/" + weights
        let mapping: ReadOnlyMapping
        do { mapping = try ReadOnlyMapping(path: path) } catch { throw NNError.file(path, "cannot open: \(error)") }
        mapping.withBytes { raw in
            var size = UInt64(raw.count)
            withUnsafeBytes(of: &size) { mix($0) }
            var offset = 0
            while offset < raw.count {
                mix(UnsafeRawBufferPointer(rebasing: raw[offset..<min(offset + 4096, raw.count)]))
                offset += 1 << 20
            }
        }
        return hex(h)
    }

    /// `fingerprint` extended with settings that change a model's vectors but live in files it
    /// does not cover (a text model's pooling and normalisation): FNV-1a 64 over both texts.
    /// 16 hex digits.
    public static func fingerprint(_ base: String, mixing settings: String) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in (base + "\n" + settings).utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return hex(h)
    }

    private static func hex(_ h: UInt64) -> String {
        var s = String(h, radix: 16)
        while s.count < 16 { s = "0" + s }
        return s
    }
}
