import CEmbedABI
import EmbedPluginKit

/// A model-free plugin written on the kit: its model writes row i = [i, byte count, 0, 0] for
/// text input i, fails input i alone when its text is "bad" (with a message as long as the
/// text that follows), and fails the whole call when the first text is "explode".
final class FakePlugin: EmbedPlugin {
    static let name = "fake"
    static let version = "0.1.0"
    static let summary = "EmbedPluginKit test plugin"

    nonisolated(unsafe) static var lastDirectory = ""
    nonisolated(unsafe) static var lastOptions: [String] = []
    nonisolated(unsafe) static var releasedModels = 0

    let host: PluginHost

    init(host: PluginHost) {
        self.host = host
        host.log(EMBEDD_LOG_INFO, "fake: started")
    }

    func loadModel(directory: String, options: [(key: String, value: String)]) throws(PluginError) -> FakeModel {
        Self.lastDirectory = directory
        Self.lastOptions = options.map { "\($0.key)=\($0.value)" }
        if let o = options.first(where: { $0.key == "fail" }) { throw PluginError(EMBEDD_ERR_OPTIONS, "option fail: '\(o.value)'") }
        return FakeModel()
    }
}

final class FakeModel: EmbedPluginModel {
    static let dim = 4

    var modelDescription: ModelDescription {
        var d = ModelDescription(name: "fake-model", version: "v1", embeddingSpace: "fake/fake-model@v1",
                                 modalities: EMBEDD_MODALITY_TEXT.rawValue, inputKinds: 1 << EMBEDD_INPUT_TEXT.rawValue,
                                 dim: Self.dim, metric: EMBEDD_METRIC_L2, normalized: false, maxInputBytes: 1000,
                                 preferredBatch: 2, maxBatch: 3)
        d.mimeTypes = ["text/plain", "text/markdown"]
        d.maxTokens = 7
        d.batchTolerance = 0.5
        return d
    }

    func embed(_ batch: EmbedBatch) throws(PluginError) {
        for i in 0..<batch.count {
            let input = batch.inputs[i]
            let text = String(decoding: UnsafeBufferPointer(start: input.data, count: input.size), as: UTF8.self)
            if i == 0 && text == "explode" { throw PluginError(EMBEDD_ERR_RESOURCE, "out of everything") }
            if text.hasPrefix("bad") {
                batch.fail(i, EMBEDD_ERR_INVALID_INPUT, text)
                continue
            }
            let row = batch.output(row: i, dim: Self.dim)
            row[0] = Float(i)
            row[1] = Float(input.size)
            batch.record(tokens: input.size, used: min(input.size, 4), for: i)
        }
    }

    deinit { FakePlugin.releasedModels += 1 }
}
