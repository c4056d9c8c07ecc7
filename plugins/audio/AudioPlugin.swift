import CEmbedABI
import EmbedNN
import EmbedPluginKit

// The audio plugin: Whisper's encoder (Hugging Face Whisper folders, tiny … large-v3) behind
// the embedd plugin ABI. A recording — WAV, FLAC, OGG, MP3, M4A or raw float PCM, any length —
// becomes one vector: the mean of its 30-s windows' pooled encoder frames, and on request one
// vector per window (ABI 1.1 segments). Decoding and resampling are EmbedAV's (FFmpeg), the
// log-mel front end EmbedAudio's, the encoder EmbedNN's; this target wires them to the C ABI.
// Only `embedd_plugin_entry` is exported (plugins/exports.map).

/// The static descriptor; built once, never freed (the ABI says descriptors are static).
nonisolated(unsafe) private let descriptor = PluginDescriptor.make(for: AudioEmbedPlugin.self)

/// The one exported symbol: returns the static descriptor.
@_cdecl("embedd_plugin_entry")
public func embedd_plugin_entry() -> UnsafePointer<embedd_plugin_descriptor> { descriptor }

/// The plugin lifetime (`init` … `finalize`): the host's log, and loading models.
final class AudioEmbedPlugin: EmbedPlugin {
    static let name = "audio"
    static let version = "1.0.0"
    static let summary = "Whisper encoders (Hugging Face folders) on oneDNN: WAV, FLAC, OGG, MP3, M4A or PCM sound of any length"

    let host: PluginHost

    init(host: PluginHost) { self.host = host }

    func loadModel(directory folder: String, options: [(key: String, value: String)]) throws(PluginError) -> AudioModel {
        let parsed: AudioPluginOptions
        do { parsed = try AudioPluginOptions(options.map { ($0.key, $0.value) }) } catch {
            throw PluginError(EMBEDD_ERR_OPTIONS, error.message)
        }
        let m: AudioModel
        do { m = try AudioModel(folder: folder, options: parsed) } catch {
            throw PluginError(EMBEDD_ERR_MODEL, error.message)
        }
        let e = m.embedder
        if parsed.precision == .bf16 && e.effectivePrecision != .bf16 {
            host.log(EMBEDD_LOG_WARNING, "audio: \(folder): precision bf16 requested but this CPU has no native bf16 (\(Precision.cpuDescription)); using fp32")
        }
        let precision = e.effectivePrecision.rawValue + (parsed.precisionIsAuto ? " (precision auto; CPU: \(Precision.cpuDescription))" : "")
        host.log(EMBEDD_LOG_INFO, "audio: loaded \(folder): dim \(e.dimension), \(precision), \(e.melBins) mel bins, 30-s windows overlapping \(parsed.windowOverlap) s, up to \(parsed.maxSeconds) s per input")
        return m
    }
}
