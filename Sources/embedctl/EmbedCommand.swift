import EmbedCLI
import EmbedClient
import EmbedSys
import EmbedWire

/// `embedctl embed`: texts as arguments, media files, or a JSON array of strings.
enum EmbedCommand {
    static let mimeByExtension: [String: String] = [
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
        "bmp": "image/bmp", "ppm": "image/x-portable-pixmap", "wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac",
        "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg", "m4a": "audio/mp4", "aac": "audio/aac", "aiff": "audio/aiff", "aif": "audio/aiff",
        "weba": "audio/webm", "mka": "audio/x-matroska", "mp4": "video/mp4", "webm": "video/webm", "mkv": "video/x-matroska",
        "m4v": "video/mp4", "mov": "video/quicktime", "avi": "video/x-msvideo", "ogv": "video/ogg", "mpg": "video/mpeg",
        "mpeg": "video/mpeg", "3gp": "video/3gpp", "flv": "video/x-flv",
        "fxtr": "application/x-embedd-fixture",
    ]

    enum Format: String, CaseIterable {
        case json, jsonl, npy, table
    }

    struct Embed: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "embed", abstract: "Embed texts and media files with a model.",
            discussion: """
            Inputs are embedded in command-line order: TEXT arguments, --file FILE (read here and sent as
            bytes; the daemon never opens client paths) and --json-input FILE (a JSON array of strings;
            "-" reads standard input). A .txt/.md file is sent as text.

            --format json prints {"model": NAME, "dim": N, "vectors": [[...], ...]} with one vector per
            input, in input order: the stable contract for scripts. --format jsonl prints one
            {"index": I, "vector": [...]} per line, in input order. --format npy writes a float32
            (n, dim) NumPy array to standard output (refused when that is a terminal: redirect it,
            > vectors.npy). --format table prints a summary per input.

            Many inputs are sent in calls of --batch-size (default 256, lowered to the daemon's
            limits.max_inputs_per_call, which it announces) and within its frame size, two calls in
            flight; the vectors are written as the answers come, still in input order, with a
            progress bar on standard error when it is a terminal. If a call fails part-way, the
            vectors written so far stay (a json document is closed; an .npy file is short), the
            error says which inputs were embedded and which not, and the exit status is 1.

            A text longer than the model's token window (MAX_TOKENS in 'embedctl models') is cut to
            it, as sentence-transformers does, and embedctl warns on standard error naming each cut
            input and its length (--format json also lists them under "truncated"). --no-truncate
            refuses such texts instead (INVALID_ARGUMENT naming the input; TEI's truncate=false);
            --truncate cuts them even on a model configured with `truncate: false`. To embed all of a
            long text, give the model the text plugin's option `long_input: chunk_mean` in
            embedd.yaml: the mean of the vectors of its 256-token windows (docs/operations.md).

            --prompt NAME prepends the model's sentence-transformers prompt NAME (PROMPTS in 'embedctl
            models', from the model folder's config_sentence_transformers.json, e.g. e5's query) to every
            text input, as sentence-transformers' encode(prompt_name=NAME) does; its tokens count. Without
            --prompt the model's default prompt applies, if it has one; --prompt none applies none. Media
            inputs ignore prompts (docs/operations.md, Prompts).

            --segments (audio and video models): besides each input's vector, one vector per 30-s
            window of it with its start and end in seconds: --format json adds "segments": one list
            per input of {"start", "end", "vector"}; jsonl adds it to each line; table counts them.
            """)
        var texts: [Ordered<String>] = []
        var model: String?
        var files: [Ordered<String>] = []
        var jsonInputs: [Ordered<String>] = []
        var mime: String?
        var format: Format?
        var batchSize: Int?
        var noTruncate = false
        var truncate = false
        var segments = false
        var prompt: String?
        var connection = ConnectionOptions()

        static var arguments: [Argument<Self>] {
            [
                .argumentsInOrder("TEXT", \.texts, .string),
                .option("--model", "-m", value: "NAME", help: "model to use (default: the daemon's default model)", \.model, .model),
                .inOrder("--file", "-f", value: "FILE", help: "embed the contents of FILE", \.files, .file),
                .inOrder("--json-input", value: "FILE", help: "embed each string of a JSON array", \.jsonInputs, .file),
                .option("--mime", value: "TYPE", help: "media type of --file inputs (default: from the extension)", \.mime, .string),
                .option("--format", value: "FORMAT", help: "output format (default json)", \.format, .choice),
                .option("--batch-size", value: "N", help: "inputs per call (default 256)", \.batchSize,
                        .integer(max: CallPipeline.Limits.defaultMaxItems)),
                .flag("--no-truncate", help: "refuse texts longer than the model's window instead of cutting them", \.noTruncate),
                .flag("--truncate", help: "cut over-long texts even if the model is set to refuse them", \.truncate),
                .flag("--segments", help: "also return a vector per 30-s window of each input (audio, video)", \.segments),
                .option("--prompt", value: "NAME", help: "the model's prompt to prepend to texts, e.g. query (none: no prompt)", \.prompt, .prompt),
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
        let format = args.format ?? .json
        if format == .npy && Terminal.isTerminal(.standardOutput) {
            throw .usage("refusing to write binary .npy to a terminal: redirect stdout to a file (> vectors.npy)")
        }
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
        if args.noTruncate && args.truncate { throw .usage("--truncate and --no-truncate contradict each other") }
        if args.segments && format == .npy { throw .usage("--segments needs --format json, jsonl or table (an .npy array holds one vector per input)") }
        let truncation: Truncation = args.noTruncate ? .off : args.truncate ? .on : .default
        guard !inputs.isEmpty else { throw .usage("nothing to embed: give TEXT arguments, --file FILE or --json-input FILE\nSee 'embedctl embed --help'.") }
        let g = args.connection
        let client = try g.connect()
        defer { client.close() }
        var limits = CallPipeline.Limits(maxItems: args.batchSize ?? 256)
        limits.fit(client.serverHello)
        let pipeline = CallPipeline(client: client, limits: limits, retrySeconds: min(g.timeoutSeconds, 60))
        let progress = ProgressBar(total: inputs.count, label: "embedding")
        var writer = VectorWriter(format: format, count: inputs.count, labels: labels)
        var failure: String?
        let result = pipeline.run(
            count: inputs.count,
            size: { i in
                switch inputs[i].kind {
                case .text(let t)?: return t.utf8.count + 16
                case .media(let m)?: return m.data.count + m.mimeType.utf8.count + 16
                default: return 64
                }
            },
            send: { (range, _) throws(ClientError) -> UInt32? in
                let id = client.makeCallID()
                try client.send(.request(callID: id, method: .embed, deadlineMilliseconds: g.deadlineMilliseconds,
                                         message: EmbedRequest(model: args.model ?? "", inputs: Array(inputs[range]), truncation: truncation,
                                                               segments: args.segments, prompt: args.prompt ?? "")))
                return id
            },
            answered: { (range, reply) in
                guard failure == nil else { return false }
                do throws(CLIError) {
                    let frame: Frame
                    switch reply {
                    case .success(let f): frame = f
                    case .failure(let error):
                        var message = error.description
                        if message.contains("limits.max_inputs_per_call") { message += " (embedctl: give a smaller --batch-size)" }
                        throw .runtime(message)
                    }
                    let response: EmbedResponse
                    do { response = try frame.decodePayload(as: EmbedResponse.self) } catch {
                        throw .runtime("protocol error: cannot decode EmbedResponse: \(error)")
                    }
                    guard response.vectors.count == range.count else {
                        throw .runtime("the daemon returned \(response.vectors.count) vectors for \(range.count) inputs")
                    }
                    try writer.write(response)
                } catch {
                    failure = error.message
                    return false
                }
                progress.update(done: writer.written, failed: 0)
                return true
            })
        progress.update(done: writer.written, failed: 0, force: true)
        progress.finish()
        writer.finish()
        if let warning = writer.truncationWarning() { Output.err("embedctl: warning: " + warning + "\n") }
        if case .failed(let error)? = result.stop, failure == nil { failure = error.description }  // a send that failed
        guard let failure else { return }
        let n = inputs.count
        guard writer.written > 0 else { throw .runtime(failure) }
        var message = "\(failure)\nembedded inputs 0-\(writer.written - 1) of \(n) (written); inputs \(writer.written)-\(n - 1) were not embedded"
        if format == .npy { message += "; the .npy output is incomplete (its header says \(n) rows)" }
        throw .runtime(message)
    }

    /// Seconds with at most three decimals: 30, 12.5, 0.333.
    static func seconds(_ t: Double) -> String {
        let millis = Int((t * 1000).rounded())
        let frac = millis % 1000
        guard frac != 0 else { return String(millis / 1000) }
        var digits = String(frac)
        while digits.count < 3 { digits = "0" + digits }
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(millis / 1000).\(digits)"
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

/// Writes `embed`'s vectors as the answers come, in input order: json and jsonl stream row by
/// row, npy writes its header (the row count is the input count) before the first row, table
/// collects its rows and prints them at the end.
struct VectorWriter {
    let format: EmbedCommand.Format
    let count: Int
    let labels: [String]
    private(set) var written = 0
    private var dim = 0
    private var model = ""
    private var tableRows: [[String]] = []
    private var tableHeader = ""
    /// Per input written so far, its segments as JSON (`--segments`), for the json document's end.
    private var segmentJSON: [String] = []
    private var sawSegments = false
    /// Inputs the model cut to its window: (index, tokens it had, tokens used).
    private(set) var truncated: [(index: Int, tokens: UInt32, used: UInt32)] = []

    init(format: EmbedCommand.Format, count: Int, labels: [String]) {
        self.format = format
        self.count = count
        self.labels = labels
    }

    /// Writes one answer's vectors (the next ones in input order).
    mutating func write(_ response: EmbedResponse) throws(CLIError) {
        if written == 0 {
            dim = Int(response.dim)
            model = response.model
            switch format {
            case .json: try Output.outBytes(Array("{\"model\": \(JSON.string(response.model)), \"dim\": \(response.dim), \"vectors\": [".utf8))
            case .npy: try Output.outBytes(NPY.encode(rows: count, columns: dim, values: []))
            case .table:
                tableHeader = "model \(response.model) (version \(response.modelVersion), generation \(response.generation)), dim \(response.dim)\n"
            case .jsonl: break
            }
        }
        var out: [UInt8] = []
        for v in response.vectors {
            guard v.values.count == dim else { throw .runtime("the daemon returned a vector of \(v.values.count) values, expected \(dim)") }
        }
        for (k, u) in response.usage.enumerated() where u.truncated {
            truncated.append((written + k, u.tokens, u.used))
        }
        if !response.segments.isEmpty {
            guard response.segments.count == response.vectors.count else {
                throw .runtime("the daemon returned segments for \(response.segments.count) of \(response.vectors.count) inputs")
            }
            sawSegments = true
        }
        for (k, v) in response.vectors.enumerated() {
            let i = written
            let segments = response.segments.isEmpty ? [] : response.segments[k].segments
            let segmentsText = "[" + segments.map {
                "{\"start\": \(EmbedCommand.seconds($0.start)), \"end\": \(EmbedCommand.seconds($0.end)), \"vector\": [" + $0.values.map(JSON.number).joined(separator: ", ") + "]}"
            }.joined(separator: ", ") + "]"
            if sawSegments { segmentJSON.append(segmentsText) }
            switch format {
            case .json:
                out += Array(((i == 0 ? "\n  [" : ",\n  [") + v.values.map(JSON.number).joined(separator: ", ") + "]").utf8)
            case .jsonl:
                out += Array(("{\"index\": \(i), \"vector\": [" + v.values.map(JSON.number).joined(separator: ", ") + "]"
                              + (sawSegments ? ", \"segments\": " + segmentsText : "") + "}\n").utf8)
            case .npy:
                out += NPY.row(v.values)
            case .table:
                let label = labels[i].count > 40 ? String(labels[i].prefix(37)) + "..." : labels[i]
                let norm = v.values.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
                let head = v.values.prefix(4).map { String(EmbedCommand.format4($0)) }.joined(separator: " ")
                var row = [String(i), label.replacing("\n", with: " "), String(v.values.count), String(EmbedCommand.format4(norm)), head + " ..."]
                if sawSegments {
                    row.append(segments.isEmpty ? "0" : "\(segments.count) (\(EmbedCommand.seconds(segments.first!.start))-\(EmbedCommand.seconds(segments.last!.end)) s)")
                }
                tableRows.append(row)
            }
            written += 1
        }
        if !out.isEmpty { try Output.outBytes(out) }
    }

    /// One line naming the inputs that were cut (at most ten by index), or nil when none was.
    func truncationWarning() -> String? {
        guard let first = truncated.first else { return nil }
        let named = truncated.prefix(10).map { "input \($0.index) (\($0.tokens) tokens)" }.joined(separator: ", ")
        let more = truncated.count > 10 ? ", and \(truncated.count - 10) more" : ""
        return "\(truncated.count) of \(count) input\(count == 1 ? "" : "s") \(truncated.count == 1 ? "was" : "were") cut to the model's "
            + "\(first.used)-token window: \(named)\(more) (--no-truncate refuses them instead; see 'embedctl embed --help')"
    }

    /// Ends the output: closes the json document, prints the table (with what was written).
    func finish() {
        guard written > 0 else { return }
        switch format {
        case .json:
            let cut = truncated.map { #"{"index": \#($0.index), "tokens": \#($0.tokens), "used": \#($0.used)}"# }
            var tail = "\n]"
            if !cut.isEmpty { tail += ", \"truncated\": [" + cut.joined(separator: ", ") + "]" }
            if sawSegments { tail += ", \"segments\": [\n  " + segmentJSON.joined(separator: ",\n  ") + "\n]" }
            Output.out(tail + "}\n")
        case .table:
            let header = ["#", "INPUT", "DIM", "NORM", "VECTOR"] + (sawSegments ? ["SEGMENTS"] : [])
            Output.out(tableHeader + Table.render(header, tableRows.map { sawSegments && $0.count == 5 ? $0 + ["0"] : $0 }))
        case .jsonl, .npy: break
        }
    }
}
