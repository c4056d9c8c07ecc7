import EmbedSys
import Foundation

/// The real models and the serving test data (Tests/Fixtures/serving).
enum ServingFixtures {
    static let miniLM = "all-MiniLM-L6-v2"
    static let mpnet = "all-mpnet-base-v2"

    /// `$EMBEDD_MODELS_DIR`, else `<repo>/models` (tools/fetch-models fills it).
    static var modelsDir: String {
        if let d = Environment.get("EMBEDD_MODELS_DIR"), !d.isEmpty { return d }
        return Products.repoRoot + "/models"
    }

    static func modelDir(_ name: String) -> String { modelsDir + "/" + name }

    /// Whether the weights of `name` are present (the one reason the real-model tests skip).
    static func hasModel(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: modelDir(name) + "/model.safetensors")
    }

    static var textPlugin: String { Products.directory + "/libembedd-text.so" }

    /// Prints why a real-model test does not run, so the log says it was skipped and why.
    static func skipReason(_ models: [String]) -> String? {
        let missing = models.filter { !hasModel($0) }
        guard !missing.isEmpty else { return nil }
        let reason = "SKIPPED: model folder(s) \(missing.map(modelDir).joined(separator: ", ")) absent: run tools/fetch-models (or set EMBEDD_MODELS_DIR)"
        print(reason)
        return reason
    }

    /// A `models:` entry for a text model served by the real plugin.
    static func textModel(_ name: String, isDefault: Bool = false) -> String {
        """
          - name: \(name)
            plugin: \(textPlugin)
            model_dir: \(modelDir(name))\(isDefault ? "\n    default: true" : "")

        """
    }

    /// The 1,000 corpus sentences.
    static let corpus: [String] = {
        let text = try! String(contentsOfFile: Products.repoRoot + "/Tests/Fixtures/serving/corpus.txt", encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }()

    /// The 50 (query, paraphrased corpus sentence) pairs.
    static let paraphrases: [(query: String, target: String)] = {
        let text = try! String(contentsOfFile: Products.repoRoot + "/Tests/Fixtures/serving/paraphrases.tsv", encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            return (String(parts[0]), String(parts[1]))
        }
    }()

    /// The corpus as `--jsonl` lines keyed `line-N` (N from 0), with the line number as metadata.
    static func corpusJSONL() -> String {
        corpus.enumerated().map { i, s in
            let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "{\"key\": \"line-\(i)\", \"text\": \"\(escaped)\", \"metadata\": {\"line\": \(i)}}"
        }.joined(separator: "\n") + "\n"
    }
}
