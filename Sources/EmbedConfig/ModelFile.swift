/// One model kept under `DATA_DIR/models.d/NAME.yaml`: what `embedctl models load` (LoadModel)
/// writes so that the model loads again after a restart.
///
/// The file holds one mapping with the keys of an entry of embedd.yaml's `models:` list except
/// `default` (the default model is chosen in embedd.yaml, by one person, in one place):
///
///     name: "bge-small"
///     plugin: "text"
///     model_dir: "bge-small-en-v1.5"     # relative: inside models_dir, as in embedd.yaml
///     options:
///       "precision": "fp32"
///
/// The daemon writes every scalar double-quoted, so names and values that YAML would read as
/// something else (`on`, `0660`, `#x`) come back unchanged; hand-written files may use any YAML
/// the configuration file accepts. The file's `name` must match its file name.
public enum ModelFile {
    /// The keys a file may hold.
    static let keys = ["name", "plugin", "model_dir", "options", "truncate"]

    /// Whether `name` can be a file name in models.d: letters, digits, `.`, `_`, `-`, not
    /// starting with a dot, at most 200 bytes. (Configured names may be anything without spaces;
    /// a name with `/` cannot be a file, and one starting with `.` would be hidden.)
    public static func isStorableName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 200, name.first != "." else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }

    /// The file name that holds model `name` (`NAME.yaml`).
    public static func fileName(for name: String) -> String { name + ".yaml" }

    /// Parses a model file. `fileName` names it in errors (FILE:LINE:COLUMN); its last path
    /// component without `.yaml` must equal the model's name.
    /// - Throws: `ConfigError` naming the file, line and column of the problem.
    public static func decode(_ bytes: [UInt8], fileName: String) throws(ConfigError) -> ModelConfig {
        let root = try YAMLParser.parse(bytes, fileName: fileName)
        let decoder = ConfigDecoder(file: fileName, base: "/")
        guard case .mapping = root else {
            throw decoder.error(root, "a model file must be a mapping with name, plugin and model_dir, not \(root.isNull ? "empty" : root.kindName)")
        }
        let model = try decoder.decodeModel(root, section: "the model file", allowed: keys)
        let base = fileName.split(separator: "/").last.map(String.init) ?? fileName
        guard base == Self.fileName(for: model.name) else {
            throw ConfigError(file: fileName, line: 0, column: 0,
                              message: "the file holds model \"\(model.name)\" but is named \(base): a model's file must be named \(Self.fileName(for: model.name))")
        }
        return model
    }

    /// The file's text for `model` (its `isDefault` is not kept). `header` lines become
    /// comments at the top.
    public static func encode(_ model: ModelConfig, header: [String] = []) -> String {
        var out = header.map { "# \($0)\n" }.joined()
        out += "name: \(quoted(model.name))\n"
        out += "plugin: \(quoted(model.plugin))\n"
        out += "model_dir: \(quoted(model.modelDirectory))\n"
        if !model.truncate { out += "truncate: false\n" }
        if !model.options.isEmpty {
            out += "options:\n"
            for (k, v) in model.options.sorted(by: { $0.key < $1.key }) { out += "  \(quoted(k)): \(quoted(v))\n" }
        }
        return out
    }

    /// A YAML double-quoted scalar: `\` and `"` escaped, control characters, DEL and the
    /// characters YAML treats as line breaks (NEL, LS, PS) as escapes, everything else as is.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where u.value < 0x20 || u.value == 0x7F || u.value == 0x85 || u.value == 0x2028 || u.value == 0x2029 || u.value == 0xFEFF:
                let hex = String(u.value, radix: 16, uppercase: true)
                out += u.value <= 0xFF ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                    : "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
