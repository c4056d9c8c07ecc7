import EmbedCLI
import EmbedSys

/// Turns `embedctl add`'s arguments into the list of items to store, in command-line order.
///
/// One item: `--key K` with exactly one of a TEXT argument, `--file PATH` or `--vector-json`.
/// Many items: TEXT arguments (key: `AddItem.key(forText:)`), `--file` paths and globs (key:
/// the path as written or as the glob produced it), `--jsonl FILE` lines and `--npy FILE` rows
/// (key: the row number, after `--key-prefix`). `--metadata` applies to every item that has
/// none of its own.
enum AddInputs {
    /// An input as given on the command line.
    enum Source {
        case text(String), file(String), vectorJSON(String), jsonl(String), npy(String)

        /// The option that gave it, for messages ("" for a TEXT argument).
        var option: String {
            switch self {
            case .text: return ""
            case .file: return "--file"
            case .vectorJSON: return "--vector-json"
            case .jsonl: return "--jsonl"
            case .npy: return "--npy"
            }
        }
    }

    static func gather(_ args: AddCommand.Add) throws(CLIError) -> [AddItem] {
        let metadata = args.metadata
        let prefix = args.keyPrefix ?? ""
        let sources = [Ordered<Source>].inCommandLineOrder([
            args.texts.map { $0.map(Source.text) }, args.files.files.map { $0.map(Source.file) },
            args.vectorJSON.map { $0.map(Source.vectorJSON) }, args.jsonl.map { $0.map(Source.jsonl) }, args.npy.map { $0.map(Source.npy) },
        ]).map(\.value)

        if let key = args.key {
            guard sources.count == 1 else {
                throw .usage("--key names one item: give exactly one TEXT, --file PATH or --vector-json (got \(sources.count))\nSee 'embedctl add --help'.")
            }
            switch sources[0] {
            case .text(let value): return [AddItem(key: key, content: .text(value), metadata: metadata, origin: "the text argument")]
            case .file(let value):
                try checkReadable(value)
                return [AddItem(key: key, content: .file(path: value), metadata: metadata, origin: value)]
            case .vectorJSON(let value):
                let v = try JSONNode.parse(value, what: "--vector-json").floats(what: "--vector-json")
                return [AddItem(key: key, content: .vector(v), metadata: metadata, origin: "--vector-json")]
            case .jsonl, .npy:
                throw .usage("--key cannot be combined with \(sources[0].option) (its items have their own keys)")
            }
        }

        var items: [AddItem] = []
        var argumentIndex = 0
        for source in sources {
            switch source {
            case .text(let value):
                argumentIndex += 1
                if value.isEmpty { throw .usage("text argument \(argumentIndex) is empty") }
                items.append(AddItem(key: AddItem.key(forText: value), content: .text(value), metadata: metadata,
                                     origin: "text argument \(argumentIndex)"))
            case .file(let value):
                for path in try expand(value) {
                    items.append(AddItem(key: path, content: .file(path: path), metadata: metadata, origin: path))
                }
            case .vectorJSON:
                throw .usage("--vector-json stores one vector and needs --key K (use --jsonl or --npy for many)")
            case .jsonl(let value):
                items += try jsonl(value, defaultMetadata: metadata)
            case .npy(let value):
                let m = try NPYMatrix.decode(try EmbedCommand.readFile(value), name: value)
                for r in 0..<m.rows {
                    items.append(AddItem(key: prefix + String(r), content: .vector(m.row(r)), metadata: metadata, origin: "\(value) row \(r)"))
                }
            }
        }
        if items.isEmpty {
            throw .usage("nothing to add: give TEXT arguments, --file PATH, --jsonl FILE, --npy FILE, or --key K with one item\nSee 'embedctl add --help'.")
        }
        return items
    }

    /// A `--file` value: a path, or a pattern the shell did not expand (quoted). A pattern that
    /// matches nothing and a directory are errors; so is a file we cannot open.
    static func expand(_ value: String) throws(CLIError) -> [String] {
        var paths = [value]
        if PathGlob.isPattern(value) && !FileSystem.exists(value) {
            do { paths = try PathGlob.expand(value) } catch { throw .runtime("cannot expand \(value): \(error)") }
            paths = paths.filter { !FileSystem.isDirectory($0) }
            if paths.isEmpty { throw .runtime("--file \(value): no file matches the pattern") }
        }
        for p in paths { try checkReadable(p) }
        return paths
    }

    static func checkReadable(_ path: String) throws(CLIError) {
        if FileSystem.isDirectory(path) { throw .runtime("cannot read \(path): it is a directory (give a glob such as '\(path)/*.txt')") }
        do { try FileDescriptor.open(path, .readOnly).close() } catch { throw .runtime("cannot read \(path): \(error)") }
    }

    /// `--jsonl FILE`: one JSON object per line, `{"key", "text" | "path" | "vector", "metadata",
    /// "document"}` — what `embedctl dump` writes, so a dump loads back. Blank lines are
    /// skipped; "key" may be left out for "text" (the text's key) and "path" (the path); a
    /// "document" object is stored as given (a string means `{"text": ...}`). Every problem
    /// names the line.
    static func jsonl(_ file: String, defaultMetadata: String?) throws(CLIError) -> [AddItem] {
        let bytes = try EmbedCommand.readFile(file)
        var items: [AddItem] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            let line = Array(bytes[start..<end])
            start = end + 1
            let origin = "\(file):\(lineNumber)"
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let node: JSONNode
            do { node = try JSONNode.parse(line) } catch { throw .usage("\(origin): invalid JSON (\(error.describe(in: line)))") }
            guard case .object(let members) = node.kind else { throw .usage("\(origin): expected a JSON object, got \(node.typeName)") }
            for (name, _) in members where !["key", "text", "path", "vector", "metadata", "document"].contains(name) {
                throw .usage("\(origin): unknown field \"\(name)\" (expected key, text, path, vector, metadata, document)")
            }
            var document: String?
            if let d = node["document"] {
                switch d.kind {
                case .object(_): document = String(decoding: line[d.range], as: UTF8.self)
                case .string(let s): document = "{\"text\": " + JSON.string(s) + "}"
                case .null: document = nil
                default: throw .usage("\(origin): \"document\" must be a JSON object or a string, got \(d.typeName)")
                }
            }
            var key: String?
            if let k = node["key"] {
                guard case .string(let s) = k.kind else { throw .usage("\(origin): \"key\" must be a string, got \(k.typeName)") }
                try AddItem.validate(key: s, origin: origin)
                key = s
            }
            var metadata = defaultMetadata
            if let m = node["metadata"] {
                switch m.kind {
                case .object(_): metadata = String(decoding: line[m.range], as: UTF8.self)
                case .null: metadata = nil
                default: throw .usage("\(origin): \"metadata\" must be a JSON object, got \(m.typeName)")
                }
            }
            let given = ["text", "path", "vector"].filter { node[$0] != nil }
            guard given.count == 1 else {
                throw .usage("\(origin): give exactly one of \"text\", \"path\" or \"vector\" (got \(given.isEmpty ? "none" : given.joined(separator: ", ")))")
            }
            let content: AddItem.Content
            switch given[0] {
            case "text":
                guard case .string(let s) = node["text"]!.kind, !s.isEmpty else { throw .usage("\(origin): \"text\" must be a non-empty string") }
                content = .text(s)
                key = key ?? AddItem.key(forText: s)
            case "path":
                guard case .string(let p) = node["path"]!.kind, !p.isEmpty else { throw .usage("\(origin): \"path\" must be a non-empty string") }
                try checkReadable(p)
                content = .file(path: p)
                key = key ?? p
            default:
                content = .vector(try node["vector"]!.floats(what: "\(origin): \"vector\""))
                guard key != nil else { throw .usage("\(origin): a \"vector\" line needs a \"key\"") }
            }
            items.append(AddItem(key: key!, content: content, metadata: metadata, origin: origin, document: document))
        }
        return items
    }
}
