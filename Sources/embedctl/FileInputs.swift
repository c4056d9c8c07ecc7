import EmbedCLI
import EmbedWire

/// How `add` and `search` turn a file into an input: the media type comes from `--mime`, else
/// the extension (`.txt`/`.md` are text); a file of unknown type is passed with no type, which
/// the daemon reads as text for a text-only model and lets the plugin sniff otherwise.
enum FileInputs {
    /// The MIME type to send with a passed descriptor ("" = unknown).
    static func mimeType(path: String, override: String?) -> String {
        if let override { return override }
        let ext = extensionOf(path)
        if ext == "txt" || ext == "md" { return "text/plain" }
        return EmbedCommand.mimeByExtension[ext] ?? ""
    }

    /// The input that carries `bytes` read from `path` (for `--send-bytes`).
    static func bytesInput(path: String, bytes: [UInt8], mime: String?) -> Result<Input, CLIError> {
        let type = mimeType(path: path, override: mime)
        if type.isEmpty || type.hasPrefix("text/") {
            guard let s = String(validating: bytes, as: UTF8.self) else {
                return .failure(.runtime(type.isEmpty ? "cannot tell the media type of \(path) (not UTF-8 text; pass --mime TYPE)"
                                                      : "\(path) is not valid UTF-8 text"))
            }
            if s.isEmpty { return .failure(.runtime("\(path) is empty")) }
            return .success(.text(s))
        }
        return .success(Input(.media(Media(data: bytes, mimeType: type, name: path))))
    }

    static func extensionOf(_ path: String) -> String {
        let name = path.split(separator: "/").last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return name[name.index(after: dot)...].lowercased()
    }
}
