import EmbedClient
import EmbedSys
import EmbedWire

/// `embedctl embed`: texts as arguments, media files, or a JSON array of strings.
enum EmbedCommand {
    static let mimeByExtension: [String: String] = [
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
        "bmp": "image/bmp", "ppm": "image/x-portable-pixmap", "wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac",
        "ogg": "audio/ogg", "mp4": "video/mp4", "webm": "video/webm", "mkv": "video/x-matroska",
        "fxtr": "application/x-embedd-fixture",
    ]

    static var command: Command {
        Command(
            name: "embed", abstract: "Embed texts and media files with a model.",
            discussion: """
            Inputs are embedded in command-line order: TEXT arguments, --file FILE (read here and sent as
            bytes; the daemon never opens client paths) and --json-input FILE (a JSON array of strings;
            "-" reads standard input). A .txt/.md file is sent as text.

            --format json prints {"model": NAME, "dim": N, "vectors": [[...], ...]} with one vector per
            input, in input order: the stable contract for scripts. --format npy writes a float32
            (n, dim) NumPy array to standard output. --format table prints a summary per input.
            """,
            arguments: "[TEXT...]",
            options: [
                OptionSpec(names: ["--model", "-m"], valueName: "NAME", help: "model to use (default: the daemon's default model)"),
                OptionSpec(names: ["--file", "-f"], valueName: "FILE", help: "embed the contents of FILE", repeatable: true),
                OptionSpec(names: ["--json-input"], valueName: "FILE", help: "embed each string of a JSON array", repeatable: true),
                OptionSpec(names: ["--mime"], valueName: "TYPE", help: "media type of --file inputs (default: from the extension)"),
                OptionSpec(names: ["--format"], valueName: "FORMAT", help: "output format (default json)", choices: ["json", "npy", "table"]),
            ],
            minPositionals: 0, maxPositionals: Int.max
        ) { (args, g) throws(CLIError) in
            try run(args, g)
        }
    }

    static func readFile(_ path: String) throws(CLIError) -> [UInt8] {
        if path == "-" {
            do { return try FileDescriptor.standardInput.readAll(limit: 1 << 30) } catch { throw .runtime("cannot read standard input: \(error)") }
        }
        guard !FileSystem.isDirectory(path) else { throw .runtime("cannot read \(path): it is a directory") }
        do { return try FileSystem.readFile(path, limit: 1 << 30) } catch { throw .runtime("cannot read \(path): \(error)") }
    }

    static func run(_ args: ParsedArguments, _ g: GlobalOptions) throws(CLIError) {
        var inputs: [Input] = []
        var labels: [String] = []
        for (name, value) in args.ordered {
            switch name {
            case "":
                inputs.append(.text(value))
                labels.append(value)
            case "--file":
                let bytes = try readFile(value)
                let ext = value.split(separator: ".").last.map { $0.lowercased() } ?? ""
                if args.value("--mime") == nil && (ext == "txt" || ext == "md") {
                    guard let s = String(validating: bytes, as: UTF8.self) else { throw .runtime("\(value) is not valid UTF-8 text") }
                    inputs.append(.text(s))
                } else {
                    guard let mime = args.value("--mime") ?? mimeByExtension[ext] else {
                        throw .usage("cannot tell the media type of \(value) from its extension; pass --mime TYPE")
                    }
                    inputs.append(Input(.media(Media(data: bytes, mimeType: mime))))
                }
                labels.append(value)
            case "--json-input":
                let texts = try JSON.parseStringArray(try readFile(value))
                inputs += texts.map(Input.text)
                labels += texts
            default:
                break
            }
        }
        guard !inputs.isEmpty else { throw .usage("nothing to embed: give TEXT arguments, --file FILE or --json-input FILE\nSee 'embedctl embed --help'.") }
        let client = try g.connect()
        defer { client.close() }
        let response: EmbedResponse
        do {
            response = try client.call(.embed, EmbedRequest(model: args.value("--model") ?? "", inputs: inputs), as: EmbedResponse.self,
                                       deadlineMilliseconds: g.deadlineMilliseconds)
        } catch {
            throw .runtime(error.description)
        }
        guard response.vectors.count == inputs.count else {
            throw .runtime("the daemon returned \(response.vectors.count) vectors for \(inputs.count) inputs")
        }
        switch args.value("--format") ?? "json" {
        case "npy":
            let dim = Int(response.dim)
            var flat: [Float] = []
            flat.reserveCapacity(inputs.count * dim)
            for v in response.vectors {
                guard v.values.count == dim else { throw .runtime("the daemon returned a vector of \(v.values.count) values, expected \(dim)") }
                flat += v.values
            }
            try Output.outBytes(NPY.encode(rows: inputs.count, columns: dim, values: flat))
        case "table":
            var rows: [[String]] = []
            for (i, v) in response.vectors.enumerated() {
                let label = labels[i].count > 40 ? String(labels[i].prefix(37)) + "..." : labels[i]
                let norm = v.values.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
                let head = v.values.prefix(4).map { String(format4($0)) }.joined(separator: " ")
                rows.append([String(i), label.replacing("\n", with: " "), String(v.values.count), String(format4(norm)), head + " ..."])
            }
            Output.out("model \(response.model) (version \(response.modelVersion), generation \(response.generation)), dim \(response.dim)\n")
            Output.out(Table.render(["#", "INPUT", "DIM", "NORM", "VECTOR"], rows))
        default:
            var out = "{\"model\": \(JSON.string(response.model)), \"dim\": \(response.dim), \"vectors\": ["
            for (i, v) in response.vectors.enumerated() {
                out += (i == 0 ? "\n  [" : ",\n  [") + v.values.map(JSON.number).joined(separator: ", ") + "]"
            }
            out += response.vectors.isEmpty ? "]}\n" : "\n]}\n"
            Output.out(out)
        }
    }

    /// Four significant decimals, without Foundation's String(format:).
    static func format4(_ f: Float) -> String {
        guard f.isFinite else { return "\(f)" }
        let scaled = (Double(f) * 10000).rounded()
        let sign = scaled < 0 ? "-" : ""
        let a = Int(abs(scaled))
        let frac = String(a % 10000)
        return "\(sign)\(a / 10000).\(String(repeating: "0", count: 4 - frac.count))\(frac)"
    }
}
