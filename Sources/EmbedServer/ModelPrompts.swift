import EmbedJSON
import EmbedPluginHost
import EmbedSys

/// A model folder's sentence-transformers prompts: `prompts` (name → text) and
/// `default_prompt_name` of its `config_sentence_transformers.json`. The daemon reads them
/// when it loads (or hot-swaps) the model and prepends the text to text inputs before they
/// reach the plugin, as `SentenceTransformer.encode(prompt_name=…)` prepends it before
/// tokenizing: the plugin ABI has no prompt, and need not, since the prompt is only text.
struct ModelPrompts: Sendable, Equatable {
    static let fileName = "config_sentence_transformers.json"
    /// The name that asks for no prompt at all, even where the model has a default (what
    /// sentence-transformers spells `prompt=""`; proto3 cannot tell an empty string from unset).
    static let noneName = "none"

    /// The prompts in the file's order (a name given twice keeps its first place and last
    /// text, as Python's `json` builds the dict).
    private(set) var prompts: [(name: String, text: String)] = []
    /// `default_prompt_name`, applied when a call names no prompt; nil when the file sets none.
    private(set) var defaultName: String?
    /// Why the prompts cannot be applied faithfully, or nil: a pooling layer with
    /// `include_prompt: false` leaves the prompt's tokens out of the mean, which embedd's
    /// plugins (given one text) cannot do.
    private(set) var unusable: String?

    static let empty = ModelPrompts()

    static func == (a: ModelPrompts, b: ModelPrompts) -> Bool {
        a.defaultName == b.defaultName && a.unusable == b.unusable && a.prompts.count == b.prompts.count
            && zip(a.prompts, b.prompts).allSatisfy { $0.name == $1.name && $0.text == $1.text }
    }

    var names: [String] { prompts.map(\.name) }
    var isEmpty: Bool { prompts.isEmpty }

    func text(named name: String) -> String? { prompts.first { $0.name == name }?.text }

    // MARK: Reading the folder

    /// Reads `directory/config_sentence_transformers.json`; a folder without the file, or a
    /// file without `prompts`, has none.
    /// - Throws: a message naming the file for JSON that does not parse, `prompts` that is not
    ///   an object of strings, or a `default_prompt_name` that names no prompt (all of which
    ///   sentence-transformers refuses too): serving such a model would give other vectors than
    ///   sentence-transformers does, so its load fails instead. Also for a default prompt that
    ///   `unusable` forbids.
    static func read(directory: String) throws(PromptError) -> ModelPrompts {
        let path = directory + "/" + fileName
        guard FileSystem.isRegularFile(path) else { return .empty }
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path, limit: 1 << 20) } catch {
            throw PromptError("cannot read \(path): \(error)")
        }
        var p = try parse(bytes, path: path)
        if !p.isEmpty { p.unusable = poolingExcludesPrompt(directory: directory) }
        if let why = p.unusable, let d = p.defaultName {
            // Every text would get the default prompt, and vectors other than sentence-transformers'.
            throw PromptError("\(path): default_prompt_name \"\(d)\" cannot be applied: \(why)")
        }
        return p
    }

    /// Parses the file's bytes; `path` names it in errors.
    static func parse(_ bytes: [UInt8], path: String) throws(PromptError) -> ModelPrompts {
        let doc: JSONValue
        do { doc = try JSONValue.parse(bytes) } catch { throw PromptError("\(path) is not valid JSON: \(error)") }
        guard doc.members != nil else { throw PromptError("\(path) is \(doc.typeName), not a JSON object") }
        var p = ModelPrompts()
        if let prompts = doc["prompts"], !prompts.isNull {
            guard let members = prompts.members else {
                throw PromptError("\(path): \"prompts\" is \(prompts.typeName), not an object of name → text")
            }
            for (name, value) in members {
                // null is sentence-transformers' "no text" (it becomes "").
                guard let text = value.isNull ? "" : value.string else {
                    throw PromptError("\(path): prompt \"\(name)\" is \(value.typeName), not a string")
                }
                if let i = p.prompts.firstIndex(where: { $0.name == name }) { p.prompts[i].text = text } else { p.prompts.append((name, text)) }
            }
        }
        if let d = doc["default_prompt_name"], !d.isNull {
            guard let name = d.string else { throw PromptError("\(path): \"default_prompt_name\" is \(d.typeName), not a string") }
            guard p.text(named: name) != nil else {
                let known = p.isEmpty ? "it has no prompts" : "its prompts are \(p.names.joined(separator: ", "))"
                throw PromptError("\(path): default_prompt_name \"\(name)\" names no prompt (\(known))")
            }
            p.defaultName = name
        }
        return p
    }

    /// Why the folder's pooling cannot take prompts (`include_prompt: false` in the config of
    /// a Pooling module listed in modules.json), or nil.
    private static func poolingExcludesPrompt(directory: String) -> String? {
        guard let bytes = try? FileSystem.readFile(directory + "/modules.json", limit: 1 << 20),
              let modules = (try? JSONValue.parse(bytes))?.array else { return nil }
        for m in modules {
            guard let type = m["type"]?.string, type.hasSuffix("Pooling"), let sub = m["path"]?.string else { continue }
            let config = directory + "/" + sub + "/config.json"
            guard let b = try? FileSystem.readFile(config, limit: 1 << 20), let c = try? JSONValue.parse(b) else { continue }
            if c["include_prompt"]?.bool == false {
                return "its pooling leaves the prompt's tokens out (include_prompt: false in \(config)), which embedd cannot do"
            }
        }
        return nil
    }

    // MARK: Choosing

    /// The text to prepend for a call that asks for prompt `asked` ("" = none named) with a
    /// fallback `fallback` (a collection's add_prompt/query_prompt; "" = none), or nil for no
    /// prompt. Without either, the model's default prompt applies, as in sentence-transformers.
    /// - Throws: a message naming `model` and its prompts for a name the model does not have.
    func resolve(asked: String, fallback: String = "", model: String) throws(PromptError) -> String? {
        let name = asked.isEmpty ? fallback : asked
        if name == ModelPrompts.noneName { return nil }
        if name.isEmpty {
            guard let d = defaultName else { return nil }
            return text(named: d)
        }
        guard let t = text(named: name) else { throw PromptError(unknown(name, model: model)) }
        if let unusable { throw PromptError("model '\(model)' has prompt '\(name)', but \(unusable)") }
        return t
    }

    /// Checks that `name` ("" and "none" always pass) is one of the model's prompts.
    func check(_ name: String, model: String) throws(PromptError) {
        guard !name.isEmpty, name != ModelPrompts.noneName else { return }
        guard text(named: name) != nil else { throw PromptError(unknown(name, model: model)) }
    }

    private func unknown(_ name: String, model: String) -> String {
        isEmpty
            ? "model '\(model)' has no prompts (its folder has no \(ModelPrompts.fileName) \"prompts\"), so prompt '\(name)' cannot apply; leave the prompt out"
            : "model '\(model)' has no prompt named '\(name)' (its prompts: \(names.joined(separator: ", ")); '\(ModelPrompts.noneName)' for no prompt)"
    }
}

/// Why a model's prompts cannot be read or applied.
struct PromptError: Error, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
}

extension EmbedInput {
    /// This input with `prompt` prepended when it is text (texts, text files, `text/*` media
    /// once decoded); other inputs ignore prompts, as sentence-transformers applies them to
    /// text only.
    func prompted(_ prompt: String?) -> EmbedInput {
        guard let prompt, !prompt.isEmpty, case .text(let s) = self else { return self }
        return .text(prompt + s)
    }
}
