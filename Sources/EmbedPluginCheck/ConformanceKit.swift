import EmbedPluginHost
import EmbedSys
import Synchronization

/// The contract test every plugin must pass (`embedctl plugin check PATH.so`).
///
/// It loads the plugin in this process without a daemon and drives the model directly, below
/// the host's own input checks, so the plugin itself must refuse bad inputs. Checks:
/// descriptor and description sanity; determinism; batch invariance (alone vs in a batch of
/// 32, within the plugin's declared tolerance); concurrency (4 threads × 200 calls agree with
/// serial results, when declared safe); bad inputs (empty text, truncated and
/// garbage media, a wrong input kind, an over-limit input) each fail alone; cancellation;
/// release.
public enum ConformanceKit {
    /// Runs every check. Never throws: problems become failed checks.
    /// - Parameters:
    ///   - modelDirectory: the model to load (default: an empty temporary directory).
    ///   - options: plugin options, as a config would pass them.
    ///   - concurrencyCalls: calls per thread in the concurrency check (the contract says 200).
    public static func run(pluginPath: String, modelDirectory: String?, options: [String: String],
                           concurrencyCalls: Int = 200) -> ConformanceReport {
        var report = ConformanceReport(pluginPath: pluginPath)
        let logs = Mutex<[String]>([])
        let host = PluginHost(pluginsDirectory: nil, log: { level, line in
            if level <= .warning { logs.withLock { $0.append(line) } }
        })
        defer { host.shutdown() }

        // 1. Descriptor.
        let plugin: PluginSummary
        do { plugin = try host.loadPlugin(path: pluginPath) } catch {
            report.fail("descriptor", error.message)
            return report
        }
        report.pluginName = plugin.name
        report.pluginVersion = plugin.version
        var problems: [String] = []
        if plugin.name.isEmpty || plugin.name.contains(where: { $0 == " " || $0 == "/" }) { problems.append("name '\(plugin.name)' must be a non-empty word") }
        if plugin.version.isEmpty { problems.append("version is empty") }
        if plugin.description.isEmpty { problems.append("description is empty") }
        problems.isEmpty ? report.pass("descriptor", "'\(plugin.name)' \(plugin.version), ABI \(plugin.abiVersion)")
                         : report.fail("descriptor", problems.joined(separator: "; "))

        // 2. Model load and description.
        let directory = modelDirectory ?? (try? FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-check-XXXXXX")) ?? "/tmp"
        let model: LoadedModel
        do {
            model = try host.loadUnregisteredModel(ModelSpec(name: "conformance", plugin: pluginPath, modelDirectory: directory,
                                                             options: options), warmUp: false)
        } catch {
            report.fail("load model", error.message)
            return report
        }
        defer { model.dispose() }
        let info = model.info
        report.modelName = "\(info.name) \(info.version)"
        report.pass("load model", "\(info.name): dim \(info.dimension), \(info.modalities), \(info.metric.rawValue), space \(info.embeddingSpace)")
        problems = []
        if info.preferredBatch > info.maxBatch { problems.append("preferred_batch \(info.preferredBatch) > max_batch \(info.maxBatch)") }
        if info.modalities.contains(.text) && !info.inputKinds.contains(.text) { problems.append("declares the text modality but not text input") }
        if info.inputKinds.contains(.encoded) && info.mimeTypes.isEmpty { problems.append("accepts encoded media but lists no MIME type") }
        if info.maxInputBytes == 0 { problems.append("declares no max_input_bytes: one unbounded input could exhaust memory") }
        if info.modalities.contains(.text) && info.maxTokens == 0 { problems.append("a text model must declare max_tokens") }
        problems.isEmpty ? report.pass("description", "limits: \(info.maxTokens) tokens, \(info.maxPixels) px, \(info.maxSeconds) s, \(info.maxInputBytes) bytes; batch \(info.preferredBatch)/\(info.maxBatch); concurrent \(info.concurrent)")
                         : report.fail("description", problems.joined(separator: "; "))

        let samples = sampleInputs(for: info)
        guard !samples.isEmpty else {
            report.fail("inputs", "the kit has no sample input for kinds \(info.inputKinds.map(\.description).sorted())")
            return report
        }

        // 3. Determinism and output sanity.
        var alone: [[Float]] = []
        do {
            var failures: [String] = []
            for (i, s) in samples.enumerated() {
                let a = try model.embed([s]), b = try model.embed([s])
                if let f = a.failures[0] { failures.append("sample \(i): \(f)"); alone.append([]); continue }
                if a.vector(at: 0) != b.vector(at: 0) { failures.append("sample \(i) differs between two calls") }
                alone.append(a.vector(at: 0))
            }
            failures.isEmpty ? report.pass("determinism", "\(samples.count) inputs embedded twice, bit-identical")
                             : report.fail("determinism", failures.prefix(3).joined(separator: "; "))
            if info.normalized {
                let bad = alone.enumerated().filter { !$0.element.isEmpty && abs(norm($0.element) - 1) > 1e-3 }
                bad.isEmpty ? report.pass("normalized", "every vector has unit length")
                            : report.fail("normalized", "declares normalized outputs, but sample \(bad[0].offset) has norm \(norm(bad[0].element))")
            }
        } catch {
            report.fail("determinism", error.message)
            return report
        }

        // 4. Batch invariance: each sample inside a batch of 32 mixed inputs.
        do {
            var worst: Float = 0
            var worstIndex = 0
            for i in samples.indices where !alone[i].isEmpty {
                var batch: [EmbedInput] = []
                for k in 0..<32 { batch.append(samples[(i + 1 + k * 7) % samples.count]) }
                let position = i % 32
                batch[position] = samples[i]
                let out = try model.embed(batch)
                if let f = out.failures[position] { throw PluginError(.batchFailed, "sample \(i) failed inside a batch: \(f)") }
                let d = maxAbsDifference(out.vector(at: position), alone[i])
                if d > worst { worst = d; worstIndex = i }
            }
            worst <= info.batchTolerance
                ? report.pass("batch invariance", "alone vs in a batch of 32: max |diff| \(worst) ≤ declared \(info.batchTolerance)")
                : report.fail("batch invariance", "sample \(worstIndex): max |diff| \(worst) exceeds the declared tolerance \(info.batchTolerance)")
        } catch {
            report.fail("batch invariance", "\(error)")
        }

        // 5. Concurrency.
        if info.concurrent && samples.indices.allSatisfy({ alone[$0].isEmpty }) {
            report.fail("concurrency", "no sample could be embedded alone, so there is nothing to compare concurrent results with")
        } else if info.concurrent {
            let mismatches = Atomic<Int>(0)
            let errors = Mutex<[String]>([])
            var threads: [OSThread] = []
            let usable = samples.indices.filter { !alone[$0].isEmpty }
            let reference = alone
            for t in 0..<4 {
                do {
                    threads.append(try OSThread {
                        for c in 0..<concurrencyCalls {
                            let i = usable[(t * 31 + c) % usable.count]
                            do {
                                let out = try model.embed([samples[i]])
                                if out.failures[0] != nil || maxAbsDifference(out.vector(at: 0), reference[i]) > info.batchTolerance {
                                    mismatches.add(1, ordering: .relaxed)
                                }
                            } catch {
                                errors.withLock { $0.append("\(error)") }
                            }
                        }
                    })
                } catch {
                    errors.withLock { $0.append("cannot start thread: \(error)") }
                }
            }
            threads.forEach { $0.join() }
            let m = mismatches.load(ordering: .relaxed), e = errors.withLock { $0 }
            (m == 0 && e.isEmpty)
                ? report.pass("concurrency", "4 threads × \(concurrencyCalls) calls agree with serial results")
                : report.fail("concurrency", "\(m) results differ from serial ones, \(e.count) calls failed\(e.first.map { ": \($0)" } ?? "")")
        } else {
            report.skip("concurrency", "model declares calls not concurrent (the host serialises them)")
        }

        // 6. Bad inputs, each inside a batch between two good inputs.
        let good = samples[samples.indices.first { !alone[$0].isEmpty } ?? 0]
        let goodIndex = samples.indices.first { !alone[$0].isEmpty } ?? 0
        let openGarbage = info.inputKinds.contains(.file) ? garbageFile() : nil
        var bad = badInputs(for: info)
        if let openGarbage { bad.append(("garbage media as an open file (ABI 1.1)", .file(openGarbage, mimeType: info.mimeTypes.first ?? ""))) }
        for (name, input) in bad {
            do {
                let out = try model.embed([good, input, good])
                if out.failures[1] == nil {
                    report.fail("bad input: \(name)", "accepted without an error")
                } else if out.failures[0] != nil || out.failures[2] != nil
                            || maxAbsDifference(out.vector(at: 0), alone[goodIndex]) > info.batchTolerance
                            || maxAbsDifference(out.vector(at: 2), alone[goodIndex]) > info.batchTolerance {
                    report.fail("bad input: \(name)", "its error leaked into the good inputs beside it")
                } else {
                    report.pass("bad input: \(name)", "\(out.failures[1]!)")
                }
            } catch {
                report.fail("bad input: \(name)", "failed the whole batch instead of the one input: \(error)")
            }
        }

        // 6a. An open file is the host's: the plugin reads it and leaves it open.
        if let openGarbage {
            var byte: [UInt8] = [0]
            let readable = (try? byte.withUnsafeMutableBytes { try openGarbage.descriptor.read(fromAbsoluteOffset: 0, into: $0) }) == 1
            readable ? report.pass("open file left open", "descriptor \(openGarbage.descriptor.rawValue) still reads after the call")
                     : report.fail("open file left open", "the plugin closed (or broke) the descriptor it was handed")
        }

        // 6b. ABI 1.1 token counts: a text model must say how much of each text it used, and
        // must not claim an over-long text was used whole.
        if model.image.abiMinor >= 1 && info.inputKinds.contains(.text) && info.maxTokens > 0 {
            let words = min(info.maxTokens * 2, info.maxInputBytes > 0 ? Int(info.maxInputBytes) / 5 - 1 : .max)
            let long = String(repeating: "word ", count: max(words, 1))
            do {
                let out = try model.embed([.text("Hello, world!"), .text(long)])
                let (short, over) = (out.usage[0], out.usage[1])
                if !short.isCounted || short.truncated || short.used != short.tokens {
                    report.fail("token counts", "a short text got \(short)")
                } else if out.failures[1] != nil {
                    // A model configured to refuse over-long text (long_input: reject).
                    report.pass("token counts", "short text \(short.tokens) tokens; the long one refused: \(out.failures[1]!)")
                } else if !over.isCounted || over.tokens <= info.maxTokens {
                    report.fail("token counts", "a text of \(words) words was counted as \(over)")
                } else if over.truncated ? over.used > info.maxTokens : over.chunks < 2 {
                    report.fail("token counts", "a text of \(over.tokens) tokens for a \(info.maxTokens)-token window reported \(over)")
                } else {
                    report.pass("token counts", "short text \(short.tokens) tokens; long text \(over.tokens) tokens, "
                                + (over.truncated ? "cut to \(over.used)" : "\(over.chunks) windows averaged"))
                }
            } catch {
                report.fail("token counts", "the call failed: \(error.message)")
            }
        } else {
            report.skip("token counts", model.image.abiMinor >= 1 ? "not a text model" : "an ABI 1.0 plugin reports no token counts")
        }

        // 6c. ABI 1.1 segments: a model that declares windows must emit them, in time order,
        // each at most a window long, and a sound longer than one window must get several
        // that reach its end.
        if model.image.abiMinor >= 1 && info.segmentSeconds > 0 && info.inputKinds.contains(.pcmF32) {
            let seconds = info.segmentSeconds * 1.5
            if info.maxSeconds > 0 && seconds > info.maxSeconds {
                report.skip("segments", "max_seconds \(info.maxSeconds) is shorter than one and a half windows")
            } else {
                let n = Int(16000 * seconds)
                let long = EmbedInput.pcm(samples: (0..<n).map { Float(abs(($0 % 73) - 36)) / 73 - 0.25 }, sampleRate: 16000)
                do {
                    let out = try model.embed([good, long], segments: true)
                    let lists = out.segments
                    var problems: [String] = []
                    if lists.count != 2 { problems.append("segments for \(lists.count) of 2 inputs") }
                    for (k, list) in lists.enumerated() {
                        if out.failures[k] != nil { problems.append("input \(k) failed: \(out.failures[k]!)"); continue }
                        if list.isEmpty { problems.append("input \(k) got no segment") }
                        if let bad = list.first(where: { $0.end - $0.start > info.segmentSeconds + 1e-3 }) {
                            problems.append("input \(k) has a segment [\(bad.start), \(bad.end)) longer than segment_seconds \(info.segmentSeconds)")
                        }
                    }
                    if lists.count == 2, let last = lists[1].last, lists[1].count < 2 || abs(last.end - seconds) > 0.05 {
                        problems.append("a \(seconds)-s sound got \(lists[1].count) segment(s) ending at \(last.end) s")
                    }
                    problems.isEmpty
                        ? report.pass("segments", "\(lists.map(\.count)) segments for a short and a \(seconds)-s sound, in order, each ≤ \(info.segmentSeconds) s")
                        : report.fail("segments", problems.prefix(3).joined(separator: "; "))
                } catch {
                    report.fail("segments", "the call failed: \(error.message)")
                }
            }
        } else {
            report.skip("segments", info.segmentSeconds > 0 ? "no PCM input to build a long sound from" : "the model emits no segments")
        }

        // 7. Cancellation: a flag raised before the call must be seen.
        let flag = CancellationFlag()
        flag.cancel()
        do {
            _ = try model.embed(Array(samples.prefix(8)), cancel: flag, checkCancellationFirst: false)
            report.fail("cancellation", "a call with the cancel flag raised completed instead of returning EMBEDD_ERR_CANCELLED")
        } catch {
            error.kind == .cancelled ? report.pass("cancellation", "raised flag → EMBEDD_ERR_CANCELLED")
                                     : report.fail("cancellation", "expected cancellation, got: \(error.message)")
        }
        let warnings = logs.withLock { $0 }
        warnings.isEmpty ? report.pass("log", "no warnings or errors logged")
                         : report.skip("log", "\(warnings.count) warning(s); first: \(warnings[0])")
        return report
    }

    static func norm(_ v: [Float]) -> Float { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    static func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// Valid inputs of every kind the model accepts (encoded media excepted: the kit carries no codec).
    static func sampleInputs(for info: ModelInfo) -> [EmbedInput] {
        var out: [EmbedInput] = []
        if info.inputKinds.contains(.text) {
            out += sampleTexts.map { .text($0) }
        }
        if info.inputKinds.contains(.rgb8) {
            for (w, h) in [(32, 32), (64, 48), (17, 23), (224, 224)] where info.maxPixels == 0 || w * h <= info.maxPixels {
                out.append(.rgb8(pixels: (0..<w * h * 3).map { UInt8(truncatingIfNeeded: ($0 * 37) ^ ($0 / 3 * w)) }, width: w, height: h))
            }
        }
        if info.inputKinds.contains(.pcmF32) {
            for (hz, seconds) in [(220, 1.0), (440, 2.0), (880, 0.5)] {
                let n = Int(16000 * min(seconds, info.maxSeconds > 0 ? info.maxSeconds : seconds))
                let period = 16000 / hz
                out.append(.pcm(samples: (0..<n).map { Float(abs(($0 % period) - period / 2)) / Float(period) - 0.25 }, sampleRate: 16000))
            }
        }
        return out.filter { info.maxInputBytes == 0 || $0.byteCount <= info.maxInputBytes }
    }

    /// 64 KiB of garbage in an unlinked temporary file, open for reading (nil if /tmp refuses).
    static func garbageFile() -> OpenFile? {
        guard let dir = try? FileSystem.makeTemporaryDirectory(template: "/tmp/embedd-kit-XXXXXX") else { return nil }
        defer { try? FileSystem.removeDirectory(dir) }
        let path = dir + "/garbage"
        guard let fd = try? FileDescriptor.open(path, [.readWrite, .create, .exclusive], permissions: 0o600) else { return nil }
        try? FileSystem.unlink(path)
        let bytes = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 11) }
        guard (try? fd.writeAll(bytes)) != nil else { try? fd.close(); return nil }
        return OpenFile(owning: fd, size: Int64(bytes.count))
    }

    /// Inputs the model must refuse, one failure each.
    static func badInputs(for info: ModelInfo) -> [(String, EmbedInput)] {
        var out: [(String, EmbedInput)] = []
        if info.inputKinds.contains(.text) {
            out.append(("empty text", .text("")))
        }
        let mime = info.mimeTypes.first ?? "image/png"
        let pngHeader: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        out.append(("truncated media", .encoded(bytes: pngHeader, mimeType: mime)))
        out.append(("garbage media", .encoded(bytes: (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }, mimeType: mime)))
        // A kind the model does not accept.
        if let wrong = [InputKind.pcmF32, .rgb8, .text].first(where: { !info.inputKinds.contains($0) }) {
            let input: EmbedInput = switch wrong {
            case .pcmF32: .pcm(samples: [0.1, 0.2, 0.3], sampleRate: 16000)
            case .rgb8: .rgb8(pixels: [1, 2, 3, 4, 5, 6], width: 2, height: 1)
            default: .text("text given to a model that takes no text")
            }
            out.append(("wrong input kind (\(wrong))", input))
        }
        if info.maxInputBytes > 0 && info.maxInputBytes < 256 << 20 {
            let n = info.maxInputBytes + 1
            let input: EmbedInput = info.inputKinds.contains(.text)
                ? .text(String(repeating: "word ", count: n / 5 + 1))
                : .encoded(bytes: [UInt8](repeating: 7, count: n), mimeType: mime)
            out.append(("over-limit input (\(n) bytes)", input))
        }
        return out
    }

    static let sampleTexts: [String] = [
        "A man is eating food.", "Hello, world!", "The quick brown fox jumps over the lazy dog.",
        "Embeddings map text to vectors so that similar meanings land close together.",
        "ok", "What is the capital of France?", "Paris is the capital and largest city of France.",
        "Il pleut des cordes à Montréal ce matin.", "東京は日本の首都です。", "مرحبا بالعالم",
        "Emoji 🙂🚀 and symbols ∑∫√ in one line.", "naïve café résumé coöperate",
        "A very long sentence that keeps going, clause after clause, listing apples, pears, plums, cherries, grapes, figs, dates, lemons, limes, oranges, and many other fruits that grow in orchards around the world.",
        "SELECT * FROM users WHERE id = 42;", "def f(x): return x * 2", "1 2 3 4 5 6 7 8 9 10",
        "The stock market fell sharply today.", "Stocks dropped a lot this afternoon.",
        "I love my dog.", "My cat hates water.", "Quantum computers use qubits.",
        "The meeting is postponed until next Tuesday.", "Please reset my password.",
        "zero\u{200B}width\u{200B}spaces", "ﬁne ligatures ﬂow", "UPPER CASE TEXT", "lower case text",
        "Mixed: 3.14159, e=2.71828, and √2≈1.414.", "A", "  leading and trailing spaces  ",
        "Tabs\tand\nnewlines", "The end.",
    ]
}
