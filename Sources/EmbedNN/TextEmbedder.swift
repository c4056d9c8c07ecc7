import EmbedJSON
import EmbedSys

/// A sentence-transformers text model loaded from its folder, exactly as Hugging Face ships it:
/// `config.json` + `model.safetensors` (BERT or MPNet), `tokenizer.json` (or `vocab.txt`),
/// `modules.json`, `1_Pooling/config.json`, `sentence_bert_config.json`.
///
/// Not thread-safe: the owner calls `embed` from one compute thread at a time (oneDNN's
/// OpenMP threads do the parallel work inside).
public final class TextEmbedder: @unchecked Sendable {
    // Invariant: immutable after init except the encoder's workspace (compute thread only).

    /// Load-time options (the text plugin's option strings map onto these).
    public struct Options: Sendable {
        /// Requested precision; `effectivePrecision` says what the CPU allows.
        public var precision: Precision = .fp32
        /// OpenMP threads (0: runtime default, i.e. all cores or OMP_NUM_THREADS).
        public var threads = 0
        /// Over-long inputs.
        public var longInput: LongInputPolicy = .truncate
        /// Overrides sentence_bert_config.json's max_seq_length (0: keep).
        public var maxSequenceLength = 0
        /// Upper bound on tokens per forward pass (bounds memory; larger batches are split).
        /// (4096 rows keep activations at ~60 MB for MiniLM, ~120 MB for MPNet; larger
        /// passes gain no speed: the matmuls are already at full efficiency.)
        public var maxBatchTokens = 4096
        public init() {}
    }

    /// The folder it was loaded from.
    public let folder: String
    /// Output dimension.
    public let dimension: Int
    /// Tokens per sequence, specials included.
    public let maxSequenceLength: Int
    /// Whether vectors are L2-normalised (a Normalize module is listed).
    public let normalizes: Bool
    /// The pooling modes.
    public let pooling: Pooling
    /// The precision in use after the CPU check.
    public let effectivePrecision: Precision
    /// The options it was loaded with.
    public let options: Options
    /// The tokenizer.
    public let tokenizer: WordPieceTokenizer
    /// The encoder.
    public let encoder: TransformerEncoder

    /// Loads and validates a model folder; every problem is an `NNError` naming the file.
    public init(folder: String, options: Options = Options()) throws(NNError) {
        self.folder = folder
        self.options = options
        guard FileSystem.isDirectory(folder) else { throw NNError.file(folder, "not a directory") }
        let configPath = folder + "/config.json"
        let config = try EncoderConfig(json: try ModelFolder.readJSON(configPath), path: configPath)

        // modules.json: Transformer, Pooling, optional Normalize; anything else is refused.
        var poolingPath: String? = nil
        var normalize = false
        let modulesPath = folder + "/modules.json"
        if let modules = try ModelFolder.readOptionalJSON(modulesPath) {
            guard let list = modules.array else { throw NNError.file(modulesPath, "must be a JSON array") }
            for m in list {
                guard let type = m["type"]?.string else { throw NNError.file(modulesPath, "module without \"type\"") }
                let path = m["path"]?.string ?? ""
                switch type.split(separator: ".").last.map(String.init) ?? type {
                case "Transformer": break
                case "Pooling": poolingPath = folder + "/" + path + "/config.json"
                case "Normalize": normalize = true
                default: throw NNError.file(modulesPath, "module type \(type) is not supported (Transformer, Pooling, Normalize)")
                }
            }
        }
        if let poolingPath {
            pooling = try Pooling(json: try ModelFolder.readJSON(poolingPath), path: poolingPath)
        } else {
            pooling = Pooling()
        }
        normalizes = normalize

        let stConfigPath = folder + "/sentence_bert_config.json"
        let stConfig = try ModelFolder.readOptionalJSON(stConfigPath)
        let configured = try stConfig.map { (j) throws(NNError) in try ModelFolder.int(j, "max_seq_length", stConfigPath, default: 512) } ?? 512

        let weightsPath = try ModelFolder.safetensorsPath(folder)
        let weights = try SafeTensorsFile(path: weightsPath)
        effectivePrecision = Precision.effective(options.precision)
        let context = try ComputeContext(threads: options.threads)
        encoder = try TransformerEncoder(config: config, weights: weights, context: context, precision: effectivePrecision)
        var limit = options.maxSequenceLength > 0 ? options.maxSequenceLength : configured
        limit = min(limit, encoder.maxSequenceLength)
        guard limit > 2 else { throw NNError.file(stConfigPath, "max_seq_length \(limit) leaves no room for text") }
        maxSequenceLength = limit
        tokenizer = try WordPieceTokenizer(folder: folder)
        let largest = Int(tokenizer.largestTokenID)
        if largest >= config.vocabularySize {
            throw NNError.file(folder + "/tokenizer.json", "token id \(largest) is outside the model's vocab_size \(config.vocabularySize)")
        }
        dimension = config.hiddenSize * pooling.modeCount
    }

    /// The token ids the model sees for `text` with truncation (what sentence-transformers feeds).
    public func tokenIDs(_ text: String) -> [Int32] {
        tokenizer.encode(text, maxLength: maxSequenceLength)
    }

    /// The sequences to run for one input under the long-input policy, and how many of its
    /// tokens they cover. Every token is counted (not just "more than fits") so that a cut is
    /// reported with the text's real length.
    func sequences(for text: String) -> Result<(sequences: [[Int32]], usage: TokenUsage), NNError> {
        let room = maxSequenceLength - tokenizer.specialTokenCount
        let content = tokenizer.contentIDs(text, limit: nil)
        let tokens = content.count + tokenizer.specialTokenCount
        if content.count <= room {
            return .success(([tokenizer.wrap(content, maxLength: maxSequenceLength)], TokenUsage(tokens: tokens, used: tokens)))
        }
        switch options.longInput {
        case .truncate:
            return .success(([tokenizer.wrap(content, maxLength: maxSequenceLength)],
                             TokenUsage(tokens: tokens, used: maxSequenceLength)))
        case .reject:
            return .failure(NNError("input has \(tokens) tokens; the model takes \(maxSequenceLength) (long_input=reject)"))
        case .chunkMean:
            let windows = stride(from: 0, to: content.count, by: room).map {
                tokenizer.wrap(content[$0..<min($0 + room, content.count)], maxLength: maxSequenceLength)
            }
            return .success((windows, TokenUsage(tokens: tokens, used: tokens, chunks: windows.count)))
        }
    }

    /// Embeds `texts`, writing `dimension` floats per input into `output` (input order).
    /// Returns per input how many tokens the vector covers, or why it failed (a failed input's
    /// row is zero-filled). Inputs are tokenised, sorted by length and run in packed batches of
    /// at most `maxBatchTokens` tokens; `cancelled` is polled between layers and batches.
    public func embed(_ texts: [String], into output: UnsafeMutablePointer<Float>,
                      cancelled: () -> Bool = { false }) throws -> [Result<TokenUsage, NNError>] {
        var outcomes = [Result<TokenUsage, NNError>](repeating: .success(TokenUsage(tokens: 0, used: 0)), count: texts.count)
        // (input index, chunk sequence)
        var work: [(input: Int, ids: [Int32])] = []
        var chunks = [Int](repeating: 0, count: texts.count)
        for (i, t) in texts.enumerated() {
            // Tokenising megabytes of text takes a while too: a cancelled call stops here.
            if i % 16 == 15, cancelled() { throw TransformerEncoder.Cancelled() }
            switch sequences(for: t) {
            case .success(let (seqs, usage)):
                chunks[i] = seqs.count
                for s in seqs { work.append((i, s)) }
                outcomes[i] = .success(usage)
            case .failure(let e): outcomes[i] = .failure(e)
            }
        }
        output.update(repeating: 0, count: texts.count * dimension)
        work.sort { $0.ids.count < $1.ids.count }
        let h = encoder.config.hiddenSize
        var pooled = [Float](repeating: 0, count: dimension)
        var start = 0
        while start < work.count {
            var end = start
            var tokens = 0
            while end < work.count && (end == start || tokens + work[end].ids.count <= options.maxBatchTokens) {
                tokens += work[end].ids.count
                end += 1
            }
            let batch = work[start..<end]
            try encoder.forward(batch.map(\.ids), cancelled: cancelled) { rows, spans in
                for (item, span) in zip(batch, spans) {
                    pooled.withUnsafeMutableBufferPointer { p in
                        pooling.pool(rows + span.start * h, length: span.length, width: h, into: p.baseAddress!)
                    }
                    let out = output + item.input * dimension
                    let weight = 1 / Float(chunks[item.input])
                    for c in 0..<dimension { out[c] += pooled[c] * weight }
                }
            }
            start = end
        }
        if normalizes {
            for i in 0..<texts.count where chunks[i] > 0 { VectorMath.normalize(output + i * dimension, count: dimension) }
        }
        return outcomes
    }

    /// Convenience: embeds `texts` and returns one vector (or error) per input.
    public func embed(_ texts: [String]) throws -> [Result<[Float], NNError>] {
        var out = [Float](repeating: 0, count: texts.count * dimension)
        let outcomes = try out.withUnsafeMutableBufferPointer { try embed(texts, into: $0.baseAddress!) }
        return (0..<texts.count).map { i in
            outcomes[i].map { _ in Array(out[(i * dimension)..<((i + 1) * dimension)]) }
        }
    }
}
