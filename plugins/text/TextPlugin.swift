import CEmbedABI
import EmbedNN
import EmbedPluginKit

// The text plugin: BERT and MPNet sentence-transformers models behind the embedd plugin ABI.
// Only `embedd_plugin_entry` is exported (plugins/exports.map); everything else is internal.
// The C-ABI glue (descriptor, trampolines, handles, error buffers) is EmbedPluginKit's.

/// The static descriptor; built once, never freed (the ABI says descriptors are static).
nonisolated(unsafe) private let descriptor = PluginDescriptor.make(for: TextEmbedPlugin.self)

/// The one exported symbol: returns the static descriptor.
@_cdecl("embedd_plugin_entry")
public func embedd_plugin_entry() -> UnsafePointer<embedd_plugin_descriptor> { descriptor }

/// The plugin lifetime (`init` … `finalize`): the host's log, and loading models.
final class TextEmbedPlugin: EmbedPlugin {
    static let name = "text"
    static let version = "1.0.0"
    static let summary = "Sentence-transformers text models (BERT, MPNet) on oneDNN, fp32 or bf16"

    let host: PluginHost

    init(host: PluginHost) { self.host = host }

    func loadModel(directory folder: String, options: [(key: String, value: String)]) throws(PluginError) -> TextModel {
        let parsed: TextPluginOptions
        do { parsed = try TextPluginOptions(options.map { ($0.key, $0.value) }) } catch {
            throw PluginError(EMBEDD_ERR_OPTIONS, error.message)
        }
        let m: TextModel
        do { m = try TextModel(folder: folder, options: parsed) } catch {
            throw PluginError(EMBEDD_ERR_MODEL, error.message)
        }
        if parsed.embedder.precision == .bf16 && m.embedder.effectivePrecision != .bf16 {
            host.log(EMBEDD_LOG_WARNING, "text: \(folder): precision bf16 requested but this CPU has no native bf16 (\(Precision.cpuDescription)); using fp32")
        }
        let precision = m.embedder.effectivePrecision.rawValue + (parsed.precisionIsAuto ? " (precision auto; CPU: \(Precision.cpuDescription))" : "")
        host.log(EMBEDD_LOG_INFO, "text: loaded \(folder): dim \(m.embedder.dimension), \(precision), max \(m.embedder.maxSequenceLength) tokens")
        return m
    }
}
