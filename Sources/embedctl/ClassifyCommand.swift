import EmbedCLI
import EmbedClient
import EmbedSys
import EmbedWire

/// `embedctl classify`: CLIP's zero-shot classification. The labels, put into a sentence by the
/// template, and the pictures are embedded by one model that takes both (a CLIP model); each
/// picture's cosines to the label sentences, scaled by CLIP's logit scale, go through a softmax,
/// as `transformers`' zero-shot-image-classification pipeline computes its scores.
enum ClassifyCommand {
    struct Classify: ParsableCommand {
        static let configuration = CommandConfiguration(
            name: "classify", abstract: "Rank candidate labels for pictures with a CLIP model (zero-shot).",
            discussion: """
            Each LABEL is put into --template ("{}" marks its place; default "This is a photo of {}.",
            transformers' pipeline default) and embedded with the picture by --model, which must take
            texts and pictures into one space (the clip plugin's models do; 'embedctl models' shows
            MODALITIES). For every FILE the labels are ranked by probability: the softmax over the
            labels of --scale × cosine(picture, label sentence). --scale defaults to 100, the logit
            scale every released CLIP was trained to (exp(logit_scale), clamped at 100); give the
            model's own value for a checkpoint trained otherwise.

            Files are read here and sent as bytes (JPEG, PNG, WebP; the type comes from the extension
            or --mime). --top K prints the K most likely labels per file (default: all).
            --format json prints [{"file": F, "labels": [{"label": L, "probability": P,
            "cosine": C}, ...]}, ...], most likely first.

            Example: embedctl classify -m clip cat.jpg --label cat --label dog --label "a red car"
            """)
        var files: [String] = []
        var labels: [String] = []
        var labelsFile: String?
        var model: String?
        var template: String?
        var scale: Double?
        var top: Int?
        var mime: String?
        var output = FormatOptions()
        var connection = ConnectionOptions()

        static var arguments: [Argument<Self>] {
            [
                .arguments("FILE", \.files, .file),
                .option("--model", "-m", value: "NAME", help: "a model that takes texts and pictures (default: the daemon's default model)", \.model, .model),
                .repeated("--label", "-l", value: "LABEL", help: "a candidate label (repeat it)", \.labels, .string),
                .option("--labels", value: "FILE", help: "candidate labels, one per line", \.labelsFile, .file),
                .option("--template", value: "TEXT", help: "sentence around each label, {} marks its place", \.template, .string),
                .option("--scale", value: "S", help: "logit scale applied to the cosines (default 100)", \.scale,
                        ValueParser { (text, name) throws(CLIError) in
                            guard let v = Double(text), v > 0, v.isFinite else { throw .usage("\(name) needs a positive number (got \"\(text)\")") }
                            return v
                        }),
                .option("--top", value: "K", help: "print the K most likely labels per file", \.top, .integer(max: 1_000_000)),
                .option("--mime", value: "TYPE", help: "media type of the files (default: from the extension)", \.mime, .string),
                .group(\.output),
                .group(\.connection),
            ]
        }

        func run() throws(CLIError) { try ClassifyCommand.run(self) }
    }

    /// One file's labels, most likely first.
    struct Ranking {
        let file: String
        let labels: [(label: String, probability: Double, cosine: Double)]
    }

    static func run(_ args: Classify) throws(CLIError) {
        var labels = args.labels
        if let path = args.labelsFile {
            let bytes = try EmbedCommand.readFile(path)
            guard let text = String(validating: bytes, as: UTF8.self) else { throw .runtime("\(path) is not valid UTF-8 text") }
            labels += text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }
        }
        guard !args.files.isEmpty else { throw .usage("nothing to classify: give picture FILEs\nSee 'embedctl classify --help'.") }
        guard labels.count >= 2 else { throw .usage("give at least two candidate labels (--label LABEL, repeated, or --labels FILE)") }
        let template = args.template ?? "This is a photo of {}."
        guard template.contains("{}") else { throw .usage("--template must contain {} where the label goes (got \"\(template)\")") }
        let sentences = labels.map { template.replacing("{}", with: $0) }
        var pictures: [Input] = []
        for path in args.files {
            let type = FileInputs.mimeType(path: path, override: args.mime)
            guard !type.isEmpty, !type.hasPrefix("text/") else {
                throw .usage("cannot tell the picture type of \(path) from its extension; pass --mime TYPE (image/jpeg, image/png, image/webp)")
            }
            pictures.append(Input(.media(Media(data: try EmbedCommand.readFile(path), mimeType: type))))
        }

        let client = try args.connection.connect()
        defer { client.close() }
        var limits = CallPipeline.Limits(maxItems: 256)
        limits.fit(client.serverHello)
        let textVectors = try embed(client, sentences.map(Input.text), model: args.model, limits: limits, args: args, what: "labels")
        let pictureVectors = try embed(client, pictures, model: args.model, limits: limits, args: args, what: "pictures")
        let scale = args.scale ?? 100
        var rankings: [Ranking] = []
        for (file, v) in zip(args.files, pictureVectors) {
            let cosines = textVectors.map { cosine(v, $0) }
            let logits = cosines.map { scale * $0 }
            let top = logits.max() ?? 0
            let e = logits.map { FloatMath.exp($0 - top) }
            let sum = e.reduce(0, +)
            var ranked = (0..<labels.count).map { (label: labels[$0], probability: e[$0] / sum, cosine: cosines[$0]) }
            ranked.sort { $0.probability > $1.probability }
            rankings.append(Ranking(file: file, labels: Array(ranked.prefix(args.top ?? ranked.count))))
        }
        print(rankings, json: args.output.json)
    }

    /// Embeds `inputs` in calls the daemon accepts (its announced input and frame limits).
    private static func embed(_ client: EmbedClient, _ inputs: [Input], model: String?, limits: CallPipeline.Limits,
                              args: Classify, what: String) throws(CLIError) -> [[Float]] {
        var vectors: [[Float]] = []
        var start = 0
        while start < inputs.count {
            var end = start
            var bytes = 0
            while end < inputs.count && end - start < limits.maxItems {
                let size: Int
                switch inputs[end].kind {
                case .media(let m)?: size = m.data.count
                case .text(let t)?: size = t.utf8.count
                default: size = 64
                }
                if end > start && bytes + size > limits.maxBytes { break }
                bytes += size
                end += 1
            }
            let request = EmbedRequest(model: model ?? "", inputs: Array(inputs[start..<end]))
            let r: EmbedResponse
            do { r = try client.call(.embed, request, as: EmbedResponse.self, deadlineMilliseconds: args.connection.deadlineMilliseconds) } catch {
                throw .runtime("embedding the \(what): \(error.description)")
            }
            guard r.vectors.count == end - start else { throw .runtime("the daemon returned \(r.vectors.count) vectors for \(end - start) \(what)") }
            vectors += r.vectors.map(\.values)
            start = end
        }
        return vectors
    }

    private static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in a.indices where i < b.count {
            ab += Double(a[i]) * Double(b[i]); aa += Double(a[i]) * Double(a[i]); bb += Double(b[i]) * Double(b[i])
        }
        return ab / max((aa * bb).squareRoot(), 1e-30)
    }

    private static func print(_ rankings: [Ranking], json: Bool) {
        if json {
            let items = rankings.map { r in
                JSON.object([
                    ("file", JSON.string(r.file)),
                    ("labels", JSON.array(r.labels.map {
                        #"{"label": \#(JSON.string($0.label)), "probability": \#(JSON.number(Float($0.probability))), "cosine": \#(JSON.number(Float($0.cosine)))}"#
                    }, indent: "    ")),
                ], indent: "  ")
            }
            Output.out(JSON.array(items) + "\n")
            return
        }
        var rows: [[String]] = []
        for r in rankings {
            for (k, l) in r.labels.enumerated() {
                rows.append([k == 0 ? r.file : "", l.label, EmbedCommand.format4(Float(l.probability)), EmbedCommand.format4(Float(l.cosine))])
            }
        }
        Output.out(Table.render(["FILE", "LABEL", "PROBABILITY", "COSINE"], rows))
    }
}
