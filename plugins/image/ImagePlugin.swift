import CEmbedABI
import EmbedNN
import EmbedPluginKit
import VisionPluginKit

// The image plugin: ResNet models from Hugging Face folders (microsoft/resnet-50 and the rest of
// the family) behind the embedd plugin ABI. Decoding is EmbedMedia's, pre-processing
// EmbedVision's, the network EmbedNN's; this target only wires them to the C ABI. Only
// `embedd_plugin_entry` is exported (plugins/exports.map).

/// The static descriptor; built once, never freed (the ABI says descriptors are static).
nonisolated(unsafe) private let descriptor = PluginDescriptor.make(for: ImageEmbedPlugin.self)

/// The one exported symbol: returns the static descriptor.
@_cdecl("embedd_plugin_entry")
public func embedd_plugin_entry() -> UnsafePointer<embedd_plugin_descriptor> { descriptor }

/// The plugin lifetime (`init` … `finalize`): the host's log, and loading models.
final class ImageEmbedPlugin: EmbedPlugin {
    static let name = "image"
    static let version = "1.0.0"
    static let summary = "ResNet image models (Hugging Face folders) on oneDNN: JPEG, PNG, WebP or RGB pixels"

    let host: PluginHost

    init(host: PluginHost) { self.host = host }

    func loadModel(directory folder: String, options: [(key: String, value: String)]) throws(PluginError) -> ImageModel {
        let parsed: VisionPluginOptions
        do { parsed = try VisionPluginOptions(options.map { ($0.key, $0.value) }, plugin: "image") } catch {
            throw PluginError(EMBEDD_ERR_OPTIONS, error.message)
        }
        let m: ImageModel
        do { m = try ImageModel(folder: folder, options: parsed) } catch {
            throw PluginError(EMBEDD_ERR_MODEL, error.message)
        }
        if parsed.precision == .bf16 && m.embedder.effectivePrecision != .bf16 {
            host.log(EMBEDD_LOG_WARNING, "image: \(folder): precision bf16 requested but this CPU has no native bf16 (\(Precision.cpuDescription)); using fp32")
        }
        let precision = m.embedder.effectivePrecision.rawValue + (parsed.precisionIsAuto ? " (precision auto; CPU: \(Precision.cpuDescription))" : "")
        host.log(EMBEDD_LOG_INFO, "image: loaded \(folder): dim \(m.embedder.dimension), \(precision), input \(m.inputWidth)×\(m.inputHeight) (\(m.processor.config.kind))")
        return m
    }
}
