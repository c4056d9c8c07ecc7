import EmbedCLI
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

    enum Format: String, CaseIterable {
        case json, npy, table
    }

    struct Embed: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "embed", abstract: "Embed texts and media files with a model.",
            discussion: """
            Inputs are embedded in command-line order: TEXT arguments, --file FILE (read here and sent as
            bytes; the daemon never opens client paths) and --json-input FILE (a JSON array of strings;
            "-" reads standard input). A .txt/.md file is sent as text.

            --format json prints {"model": NAME, "dim": N, "vectors": [[...], ...]} with one vector per
            input, in input order: the stable contract for scripts. --format npy writes a float32
            (n, dim) NumPy array to standard output. --format table prints a summary per input.
            """)
        var texts: [Ordered<String>] = []
        var model: String?
        var files: [Ordered<String>] = []
        var jsonInputs: [Ordered<String>] = []
        var mime: String?
        var format: Format?
        var connection = ConnectionOptions()

        static var arguments: [Argument<Self>] {
            [
                .argumentsInOrder("TEXT", \.texts, .string),
                .option("--model", "-m", value: "NAME", help: "model to use (default: the daemon's default model)", \.model, .model),
                .inOrder("--file", "-f", value: "FILE", help: "embed the contents of FILE", \.files, .file),
                .inOrder("--json-input", value: "FILE", help: "embed each string of a JSON array", \.jsonInputs, .file),
                .option("--mime", value: "TYPE", help: "media type of --file inputs (default: from the extension)", \.mime, .string),
                .option("--format", value: "FORMAT", help: "output format (default json)", \.format, .choice),
                .group(\.connection),
            ]
        }

        func run() throws(CLIError) { try EmbedCommand.run(self) }
    }

    static func readFile(_ path: String) throws(CLIError) -> [UInt8] {
        if path == "-" {
            do { return try FileDescriptor.standardInput.readAll(limit: 1 << 30) } catch { throw .runtime("cannot read standard input: \(error)") }
        }
        guard !FileSystem.isDirectory(path) else { throw .runtime("cannot read \(path): it is a directory") }
        do { return try FileSystem.readFile(path, limit: 1 << 30) } catch { throw .runtime("cannot read \(path): \(error)") }
    }

    /// One input as given: a TEXT argument, a --file or a --json-input.
    enum Source {
        case text(String), file(String), jsonInput(String)
    }

    static func run(_ args: Embed) throws(CLIError) {
        var inputs: [Input] = []
        var labels: [String] = []
        let sources = [Ordered<Source>].inCommandLineOrder([
            args.texts.map { $0.map(Source.text) }, args.files.map { $0.map(Source.file) }, args.jsonInputs.map { $0.map(Source.jsonInput) },
        ])
        for source in sources {
            switch source.value {
            case .text(let value):
                inputs.append(.text(value))
                labels.append(value)
            case .file(let value):
                let bytes = try readFile(value)
                let ext = value.split(separator: ".").last.map { $0.lowercased() } ?? ""
                if args.mime == nil && (ext == "txt" || ext == "md") {
                    guard let s = String(validating: bytes, as: UTF8.self) else { throw .runtime("\(value) is not valid UTF-8 text") }
                    inputs.append(.text(s))
                } else {
                    guard let mime = args.mime ?? mimeByExtension[ext] else {
                        throw .usage("cannot tell the media type of \(value) from its extension; pass --mime TYPE")
                    }
                    inputs.append(Input(.media(Media(data: bytes, mimeType: mime))))
                }
                labels.append(value)
            case .jsonInput(let value):
                let texts = try JSON.parseStringArray(try readFile(value))
                inputs += texts.map(Input.text)
                labels += texts
            }
        }
        guard !inputs.isEmpty else { throw .usage("nothing to embed: give TEXT arguments, --file FILE or --json-input FILE\nSee 'embedctl embed --help'.") }
        let g = args.connection
        let client = try g.connect()
        defer { client.close() }
        let response: EmbedResponse
        do {
            response = try client.call(.embed, EmbedRequest(model: args.model ?? "", inputs: inputs), as: EmbedResponse.self,
                                       deadlineMilliseconds: g.deadlineMilliseconds)
        } catch {
            throw .runtime(error.description)
        }
        guard response.vectors.count == inputs.count else {
            throw .runtime("the daemon returned \(response.vectors.count) vectors for \(inputs.count) inputs")
        }
        switch args.format ?? .json {
        case .npy:
            let dim = Int(response.dim)
            var flat: [Float] = []
            flat.reserveCapacity(inputs.count * dim)
            for v in response.vectors {
                guard v.values.count == dim else { throw .runtime("the daemon returned a vector of \(v.values.count) values, expected \(dim)") }
                flat += v.values
            }
            try Output.outBytes(NPY.encode(rows: inputs.count, columns: dim, values: flat))
        case .table:
            var rows: [[String]] = []
            for (i, v) in response.vectors.enumerated() {
                let label = labels[i].count > 40 ? String(labels[i].prefix(37)) + "..." : labels[i]
                let norm = v.values.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
                let head = v.values.prefix(4).map { String(format4($0)) }.joined(separator: " ")
                rows.append([String(i), label.replacing("\n", with: " "), String(v.values.count), String(format4(norm)), head + " ..."])
            }
            Output.out("model \(response.model) (version \(response.modelVersion), generation \(response.generation)), dim \(response.dim)\n")
            Output.out(Table.render(["#", "INPUT", "DIM", "NORM", "VECTOR"], rows))
        case .json:
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
