import CEmbedABI
import EmbedNN
import EmbedPluginKit
import VisionPluginKit

// The clip plugin: CLIP models from Hugging Face folders (openai/clip-vit-base-patch32 and the
// rest of the family) behind the embedd plugin ABI. One model takes texts and pictures and
// puts both into one embedding space. Tokenising and the towers are EmbedNN's, decoding and
// pre-processing VisionPluginKit's (EmbedMedia, EmbedVision); this target only wires them to
// the C ABI. Only `embedd_plugin_entry` is exported (plugins/exports.map).

/// The static descriptor; built once, never freed (the ABI says descriptors are static).
nonisolated(unsafe) private let descriptor = PluginDescriptor.make(for: CLIPEmbedPlugin.self)

/// The one exported symbol: returns the static descriptor.
@_cdecl("embedd_plugin_entry")
public func embedd_plugin_entry() -> UnsafePointer<embedd_plugin_descriptor> { descriptor }

/// The plugin lifetime (`init` … `finalize`): the host's log, and loading models.
final class CLIPEmbedPlugin: EmbedPlugin {
    static let name = "clip"
    static let version = "1.0.0"
    static let summary = "CLIP models (Hugging Face folders) on oneDNN: texts and JPEG, PNG, WebP or RGB pictures in one space"

    let host: PluginHost

    init(host: PluginHost) { self.host = host }

    func loadModel(directory folder: String, options: [(key: String, value: String)]) throws(PluginError) -> CLIPModel {
        let parsed: VisionPluginOptions
        do { parsed = try VisionPluginOptions(options.map { ($0.key, $0.value) }, plugin: "clip") } catch {
            throw PluginError(EMBEDD_ERR_OPTIONS, error.message)
        }
        let m: CLIPModel
        do { m = try CLIPModel(folder: folder, options: parsed) } catch {
            throw PluginError(EMBEDD_ERR_MODEL, error.message)
        }
        let e = m.embedder
        if parsed.precision == .bf16 && e.effectivePrecision != .bf16 {
            host.log(EMBEDD_LOG_WARNING, "clip: \(folder): precision bf16 requested but this CPU has no native bf16 (\(Precision.cpuDescription)); using fp32")
        }
        let precision = e.effectivePrecision.rawValue + (parsed.precisionIsAuto ? " (precision auto; CPU: \(Precision.cpuDescription))" : "")
        host.log(EMBEDD_LOG_INFO, "clip: loaded \(folder): dim \(e.dimension), \(precision), image \(e.imageSize)² in \(e.config.patchCount) patches of \(e.config.patchSize)², text up to \(e.maxTokens) tokens")
        return m
    }
}
